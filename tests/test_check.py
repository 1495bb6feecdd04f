"""Validation: every problem is reported, each naming the file, the line,
the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from counterplan import InvalidInput, check_folder, read_folder
from counterplan.errors import Severity

from economies import MINIMAL

ITEMS = MINIMAL["items.csv"]
FLOWS = MINIMAL["flows.csv"]
TECHNIQUES = MINIMAL["techniques.csv"]

# (files to replace, expected "file:line" location or file, expected message, value)
CASES = {
    "unknown item in flows": (
        {"flows_csv": FLOWS + "farm,water,-1\n"}, "flows.csv:9", "unknown item", "water"),
    "unknown technique in flows": (
        {"flows_csv": FLOWS + "mill,grain,-1\n"}, "flows.csv:9", "unknown technique", "mill"),
    "unknown period in targets": (
        {"targets_csv": "item,period,amount\nbread,1,1\nbread,2031,1\n"},
        "targets.csv:3", "unknown period", "2031"),
    "unknown unit": (
        {"techniques_csv": TECHNIQUES + "mill,mill,millers,,\n"},
        "techniques.csv:4", "unknown unit_id", "millers"),
    "unknown item in availability": (
        {"availability_csv": "item,period,amount\nlabor,1,5\n"},
        "availability.csv:2", "unknown item", "labor"),
    "duplicate item id": (
        {"items_csv": ITEMS + "bread,product,,,\n"}, "items.csv:6", "duplicate item id", "bread"),
    "duplicate technique id": (
        {"techniques_csv": TECHNIQUES + "farm,,,,\n"}, "techniques.csv:4",
        "duplicate technique id", "farm"),
    "duplicate unit id": (
        {"units_csv": "id,name\nbakers,a\nbakers,b\n"}, "units.csv:3", "duplicate unit id",
        "bakers"),
    "unknown kind": (
        {"items_csv": ITEMS.replace("grain,product", "grain,prodcut")}, "items.csv:3",
        "unknown kind", "prodcut"),
    "non-number": (
        {"flows_csv": FLOWS.replace("bakery,grain,-0.5", "bakery,grain,-0.5x")},
        "flows.csv:3", "'amount' is not a finite number", "-0.5x"),
    "non-finite number": (
        {"flows_csv": FLOWS.replace("bakery,grain,-0.5", "bakery,grain,inf")},
        "flows.csv:3", "'amount' is not a finite number", "inf"),
    "ragged line": (
        {"flows_csv": FLOWS.replace("bakery,grain,-0.5", "bakery,grain,-0,5")},
        "flows.csv", "cannot be read as CSV", None),
    "NaN": (
        {"availability_csv": "item,period,amount\nlabour,1,NaN\n"},
        "availability.csv:2", "'amount' is not a finite number", "NaN"),
    "empty amount": (
        {"flows_csv": FLOWS.replace("bakery,grain,-0.5", "bakery,grain,")},
        "flows.csv:3", "'amount' is empty", None),
    "technique with no output": (
        {"techniques_csv": TECHNIQUES + "idle,,,,\n"}, "flows.csv",
        "technique has no output", "idle"),
    "resource produced": (
        {"flows_csv": FLOWS + "farm,labour,2\n"}, "flows.csv:9",
        "a technique produces a resource", "labour"),
    "target nothing makes": (
        {"items_csv": ITEMS + "cake,product,,,\n",
         "targets_csv": "item,period,amount\ncake,1,3\n"},
        "targets.csv:2", "target for a product that no technique makes", "cake"),
    "target for a resource": (
        {"targets_csv": "item,period,amount\nlabour,1,3\n"},
        "targets.csv:2", "target for an item that is not a product", "labour"),
    "negative availability": (
        {"availability_csv": "item,period,amount\nlabour,1,-5\n"},
        "availability.csv:2", "availability is negative", "-5"),
    "negative target": (
        {"targets_csv": "item,period,amount\nbread,1,-5\n"},
        "targets.csv:2", "target is negative", "-5"),
    "availability for a product": (
        {"availability_csv": "item,period,amount\nbread,1,5\n"},
        "availability.csv:2", "availability given for a product", "bread"),
    "depreciation above one": (
        {"items_csv": ITEMS.replace("ovens,0.1", "ovens,1.5")}, "items.csv:5",
        "depreciation outside [0, 1]", "1.5"),
    "depreciation below zero": (
        {"items_csv": ITEMS.replace("ovens,0.1", "ovens,-0.1")}, "items.csv:5",
        "depreciation outside [0, 1]", "-0.1"),
    "missing required file": (
        {"flows_csv": None}, "flows.csv", "required file is missing", None),
    "missing manifest": (
        {"economy_toml": None}, "economy.toml", "required file is missing", None),
    "bad toml": (
        {"economy_toml": "name = \n"}, "economy.toml", "not valid TOML", None),
    "missing column": (
        {"flows_csv": "technique,item\nbakery,bread\n"}, "flows.csv:1",
        "required column 'amount' is missing", None),
    "empty table": (
        {"techniques_csv": "id,name\n"}, "techniques.csv", "table has no rows", None),
    "empty file": (
        {"items_csv": ""}, "items.csv", "file is empty", None),
    "triple flow": (
        {"flows_csv": FLOWS + "farm,grain,-0.2\n"}, "flows.csv:9",
        "duplicate flow for the same technique and item", "grain"),
    "two outputs of the same item": (
        {"flows_csv": FLOWS + "bakery,bread,2\n"}, "flows.csv:9",
        "duplicate flow for the same technique and item", "bread"),
    "min above max": (
        {"techniques_csv": TECHNIQUES.replace("farm,farm,,,", "farm,farm,,5,2")},
        "techniques.csv:3", "min is above max", "5"),
    "unknown objective": (
        {"economy_toml": 'periods = ["1", "2"]\n[objective]\nkind = "maximum-profit"\n'},
        "economy.toml", "unknown objective kind", "maximum-profit"),
    "duplicate period": (
        {"economy_toml": 'periods = ["1", "2", "2"]\n'}, "economy.toml",
        "period listed twice", "2"),
    "duplicate target": (
        {"targets_csv": "item,period,amount\nbread,1,1\nbread,1,2\n"}, "targets.csv:3",
        "the same item and period appear twice", "bread"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_is_reported_with_location_value_and_fix(make_folder, case: str) -> None:
    files, where, message, value = CASES[case]
    problems = check_folder(make_folder(**files)).errors
    matching = [p for p in problems if message in p.message]
    assert matching, f"expected {message!r}, got {[str(p) for p in problems]}"
    p = matching[0]
    assert str(p).startswith(where + ":")
    assert p.fix
    if value is not None:
        assert p.value == value
    with pytest.raises(InvalidInput) as caught:
        read_folder(make_folder("again", **files))
    assert message in str(caught.value)


def test_every_problem_is_reported_not_only_the_first(make_folder) -> None:
    folder = make_folder(
        items_csv=ITEMS.replace("grain,product", "grain,prodcut") + "bread,product,,,\n",
        flows_csv=FLOWS + "mill,grain,-1\nfarm,water,x\n",
        targets_csv="item,period,amount\nbread,9,1\n")
    messages = {p.message for p in check_folder(folder).errors}
    assert {"unknown kind", "duplicate item id", "unknown technique", "unknown item",
            "'amount' is not a finite number", "unknown period"} <= messages


def test_many_bad_rows_are_counted_not_all_listed(make_folder) -> None:
    rows = "".join(f"farm,ghost{k},-1\n" for k in range(25))
    problems = check_folder(make_folder(flows_csv=FLOWS + rows)).errors
    assert len([p for p in problems if p.message == "unknown item"]) == 10
    assert any(p.message.startswith("15 more rows") for p in problems)


def test_missing_availability_is_a_warning_not_an_error(make_folder) -> None:
    problems = check_folder(make_folder(availability_csv="item,period,amount\nlabour,1,5\n"))
    assert not problems.errors
    (warning,) = problems.warnings
    assert warning.severity is Severity.WARNING
    assert warning.value == "labour"
    assert "no availability in period(s) 2" in warning.message
    economy = read_folder(make_folder("b", availability_csv="item,period,amount\nlabour,1,5\n"))
    assert economy.availability_array()[2].tolist() == [5.0, 0.0]


def test_unknown_column_is_a_warning(make_folder) -> None:
    problems = check_folder(make_folder(units_csv="id,name,colour\nbakers,b,red\n"))
    assert not problems.errors
    assert [p.value for p in problems.warnings] == ["colour"]


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    (p,) = check_folder(tmp_path / "nowhere").errors
    assert "plan folder not found" in p.message


def test_the_examples_have_no_problems(example) -> None:
    from counterplan.examples import names

    for name in names():
        assert check_folder(example(name)).found == []


def test_a_typo_in_a_required_column_is_named_in_the_same_message(make_folder) -> None:
    problems = check_folder(make_folder(flows_csv=FLOWS.replace("amount", "amout")))
    (error,) = problems.errors
    assert str(error) == ("flows.csv:1: error: required column 'amount' is missing; the header "
                          "has 'amout' instead. Fix: rename 'amout' to 'amount' (the header "
                          "must contain technique, item, amount)")
    assert problems.warnings == []


def test_an_unknown_column_names_the_column_it_may_mean(make_folder) -> None:
    (warning,) = check_folder(make_folder(targets_csv="item,period,amount,weigth\nbread,1,1,2\n"
                                          )).warnings
    assert warning.value == "weigth"
    assert warning.fix.startswith("if it means 'weight', rename it")


def test_a_latin1_byte_is_located_by_line_and_column(make_folder) -> None:
    folder = make_folder()
    (folder / "items.csv").write_bytes(ITEMS.replace("bread,product,loaves,bread,",
                                                     "bread,product,loaves,pão,").encode("latin-1"))
    (error,) = check_folder(folder).errors
    assert str(error).startswith("items.csv:2: error: byte 0xE3 at column 23 is not UTF-8 (the "
                                 "file looks saved as Latin-1 or Windows-1252) (value "
                                 "'bread,product,loaves,pão,'). Fix: save it as CSV, UTF-8")


def test_a_latin1_manifest_is_located_too(make_folder) -> None:
    folder = make_folder()
    (folder / "economy.toml").write_bytes('name = "mini"\ndescription = "pão"\n'.encode("latin-1"))
    (error,) = [e for e in check_folder(folder).errors if e.file == "economy.toml"]
    assert str(error).startswith("economy.toml:2: error: byte 0xE3 at column 17 is not UTF-8")
    assert error.fix.startswith("save it as UTF-8")


def test_a_semicolon_separated_file_is_one_clear_error(make_folder) -> None:
    folder = make_folder(flows_csv=FLOWS.replace(",", ";").replace("-0.5", "-0,5"))
    errors = check_folder(folder).errors
    assert [str(e).split(". Fix:")[0] for e in errors] == [
        "flows.csv:1: error: the header has no commas but 2 semicolons: the fields are "
        "separated by ';' (a spreadsheet's setting) (value 'technique;item;amount')"]
    assert "field delimiter ','" in errors[0].fix


def test_excel_utf8_with_a_byte_order_mark_is_read(make_folder) -> None:
    folder = make_folder()
    (folder / "items.csv").write_bytes(b"\xef\xbb\xbf" + ITEMS.encode())
    assert check_folder(folder).found == []


def test_counterplan_columns_are_checked_like_the_tables(make_folder, tmp_path: Path) -> None:
    from counterplan.counter.proposals import load_counterplans

    economy = read_folder(make_folder())
    file = tmp_path / "counterplan.csv"
    file.write_text("id,kind,technique,itme,period,value\nc1,pledge,farm,,1,5\n")
    plans, warnings = load_counterplans(file, economy)
    assert len(plans) == 1
    assert [(w.value, w.fix.split(";")[0]) for w in warnings] == [
        ("itme", "if it means 'item', rename it")]
    # the unit is read from unit_id: with 'unit' the bakers' pledge is refused, and the
    # warning that says why comes with the error
    file.write_text("id,unit,kind,technique,period,value\nc1,bakers,pledge,bakery,1,5\n")
    with pytest.raises(InvalidInput) as caught:
        load_counterplans(file, economy)
    assert [str(p).split(". Fix")[0] for p in caught.value.problems] == [
        "counterplan.csv:1: warning: unknown column is ignored (value 'unit')",
        "counterplan.csv:2: error: technique belongs to another unit (bakers) (value 'bakery')"]
    assert "if it means 'unit_id', rename it" in caught.value.problems[0].fix
    file.write_text("id,kind,technique,vlaue\nc1,pledge,bakery,5\n")
    with pytest.raises(InvalidInput) as caught:
        load_counterplans(file, economy)
    assert "required column 'value' is missing; the header has 'vlaue' instead" in str(
        caught.value)
    file.write_bytes(b"id;kind;technique;value\nc1;pledge;bakery;5\n")
    with pytest.raises(InvalidInput, match="separated by ';'"):
        load_counterplans(file, economy)
