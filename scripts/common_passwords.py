"""Write src/counterplan/web/common-passwords.txt: the passwords that the web
application refuses as too common.

Two sources, both public knowledge, nothing downloaded:

- the classic entries that head every published list of leaked passwords
  (SplashData's and NordPass's yearly "worst passwords" lists, the UK NCSC's
  2019 analysis of the Have I Been Pwned corpus), typed in below;
- the patterns those lists are made of, generated: a common word or name,
  capitalised or not, followed by a common suffix (digits, a year, "!");
  keyboard walks; runs of one character; counting sequences; dates.

Only passwords of at least 8 characters are kept (shorter ones are refused
for their length).  The application compares in lower case.  Run
``python scripts/common_passwords.py`` to write the file again; the output is
the same each time.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "counterplan" / "web" / "common-passwords.txt"
MIN_LENGTH = 8


def _words(text: str) -> list[str]:
    return text.split()


CLASSIC = _words("""
123456 123456789 12345678 password qwerty123 qwerty1 111111 12345 secret 123123
1234567890 1234567 000000 qwerty abc123 password1 iloveyou 1q2w3e4r5t 1qaz2wsx
qwertyuiop 123321 654321 666666 7777777 888888 987654321 123qwe 1q2w3e4r zaq12wsx
asdfghjkl asdfghjk qazwsxedc passw0rd p@ssw0rd p@ssword pa$$word password123
password12 password1234 letmein welcome welcome1 welcome123 admin admin123
administrator root toor changeme changeit default guest login master hello
hello123 monkey dragon football baseball basketball soccer hockey superman batman
spiderman starwars pokemon princess sunshine shadow michael jennifer jordan23
trustno1 whatever freedom ninja mustang access flower lovely loveme iloveu
iloveyou1 iloveyou2 fuckyou fuckyou1 computer internet samsung google apple
liverpool chelsea arsenal charlie daniel thomas jessica ashley michelle
1234qwer qwer1234 asdf1234 zxcvbnm zxcvbnm123 q1w2e3r4 q1w2e3r4t5 1a2b3c4d
aa123456 a123456 a12345678 abcd1234 abcdefgh abcdef123 abc12345 123abc
11111111 00000000 12341234 12121212 11223344 112233 121212 131313 147258369
159753 159357 741852963 789456123 987654 55555555 99999999 88888888 66666666
987654321a 1234567a 123456a 123456789a password! password1! qwerty12 qwerty1234
q2w3e4r5 1qazxsw2 zaq1zaq1 zaq1xsw2 mypassword yourpassword nopassword
secret123 letmein1 letmein123 passport passpass pass1234 test1234 testtest
test123 tester123 demo1234 user1234 useruser 11qq22ww qweasdzxc qweasd123
startrek blink182 metallica nirvana eminem harley ferrari porsche mercedes
corvette yankees cowboys eagles steelers packers lakers maverick matrix
""")

WORDS = _words("""
password passw0rd pass admin welcome letmein login user guest master root secret
qwerty asdf dragon monkey football baseball soccer hockey tennis golf batman
superman spiderman pokemon princess sunshine shadow flower summer winter spring
autumn monday friday love iloveyou lovely angel baby honey sugar cookie chocolate
banana orange cherry apple mango lemon tiger lion eagle falcon wolf bear
panda kitty puppy doggie buster charlie max bella lucky rocky killer hunter
ranger rainbow diamond silver golden freedom liberty justice matrix ninja
pirate wizard legend hero killer michael jennifer jessica ashley daniel
thomas andrew joshua matthew robert william david james john maria anna
sophie emma olivia alex chris jordan taylor morgan family friends forever
heaven jesus christ blessed church computer internet google facebook samsung
nokia iphone android windows linux ubuntu microsoft apple starwars startrek
harrypotter hogwarts gandalf matrix whatever nothing trustno1 changeme
default office manager company business money dollar euro planning worker
workers union comrade socialism communism revolution solidarity counterplan
economy cooperative federation delegate member planner soviet lenin marx
kantorovich brigade factory tractor harvest
""")

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01",
            "007", "69", "77", "88", "99", "00", "11", "13", "21", "22", "23", "2000",
            *(str(year) for year in range(1980, 2031))]

WALKS = ["qwertyui", "qwertyuiop", "asdfghjk", "asdfghjkl", "zxcvbnm,", "1qaz2wsx",
         "1qaz2wsx3edc", "qazwsxedc", "qazwsxedcrfv", "q1w2e3r4", "q1w2e3r4t5y6",
         "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "zaq12wsx", "!qaz2wsx", "qwerasdf",
         "qwerasdfzxcv", "asdfqwer", "poiuytre", "poiuytrewq", "lkjhgfds", "mnbvcxz",
         "azertyui", "azertyuiop", "qwertzui", "qwertzuiop", "1234qwer", "qwer1234",
         "asdf1234", "zxcv1234", "1234asdf", "1234zxcv", "qweasdzxc", "qweqweqwe",
         "asdasdasd", "zxczxczxc", "abcabcabc", "147258369", "159357258", "741852963",
         "963852741", "789456123", "123456789", "1234567890", "0987654321", "987654321"]


def runs() -> list[str]:
    """One character repeated, pairs repeated, counting up and down."""
    out = [c * n for c in "0123456789abcdefghijklmnopqrstuvwxyz!*" for n in (8, 9, 10, 12)]
    out += [p * n for p in ("12", "21", "13", "69", "ab", "xo", "123", "abc", "1234", "qwe")
            for n in (4, 5, 6)]
    digits = "01234567890123456789"
    out += [digits[i:i + n] for n in (8, 9, 10) for i in range(10)]
    out += [digits[::-1][i:i + n] for n in (8, 9, 10) for i in range(10)]
    return out


def dates() -> list[str]:
    """Birthdays as people type them: ddmmyyyy and mmddyyyy, 1950-2010, first of the month."""
    return [f"{d:02d}{m:02d}{y}" for y in range(1950, 2011) for m in range(1, 13)
            for d in (1, 12)]


def generate() -> list[str]:
    found = set(CLASSIC) | set(WALKS) | set(runs()) | set(dates())
    found |= {word + suffix for word in WORDS for suffix in SUFFIXES}
    found |= {word.replace("a", "@").replace("o", "0") + suffix
              for word in WORDS for suffix in ("", "1", "123", "!")}
    return sorted(p.lower() for p in found if len(p) >= MIN_LENGTH)


def main() -> None:
    lines = ["# Passwords the counterplan web application refuses as too common.",
             "# Written by scripts/common_passwords.py (run it again to rewrite this file):",
             "# the classic entries of the published lists of leaked passwords (SplashData,",
             "# NordPass, the UK NCSC's 2019 Have I Been Pwned analysis) and the patterns",
             "# they are made of (a common word plus digits, a year or '!'; keyboard walks;",
             "# runs; dates). Only entries of 8 or more characters; compared in lower case.",
             *generate()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(lines) - 6} passwords")


if __name__ == "__main__":
    main()
