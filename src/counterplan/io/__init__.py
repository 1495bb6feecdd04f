"""Reading, checking and writing plan folders and other formats."""
