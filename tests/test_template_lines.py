"""No line of an HTML template is longer than 200 characters (issue 19, readable templates).

A line may stay longer only where breaking it would change what the page says or shows:
- one `{% blocktranslate %}…{% endblocktranslate %}` block, or the first line of one that goes on
  (its text is the msgid in locale/en/LC_MESSAGES/django.po: new white space would lose the English);
- one `{% translate "…" %}` tag, for the same reason;
- one `<option>…</option>` element (white space in an option's text is part of its label).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "vitreem"
LIMIT = 200
BLOCKTRANSLATE = re.compile(r"\{% blocktranslate\b.*?%\}")
TRANSLATE = re.compile(r"""\{% translate (?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') %\}""")
OPTION = re.compile(r"<option\b.*</option>")


def one_translation_or_option(line: str) -> bool:
    text = line.strip()
    if TRANSLATE.fullmatch(text) or (OPTION.fullmatch(text) and text.count("<option") == 1):
        return True
    start = BLOCKTRANSLATE.match(text)
    if not start:
        return False
    end = text.find("{% endblocktranslate %}", start.end())
    # the block ends on this line with nothing after it, or goes on to the next line
    return end < 0 or text[end + len("{% endblocktranslate %}"):] == ""


def long_lines() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.html")):
        name = path.relative_to(ROOT).as_posix()
        if "/templates/" not in f"/{name}":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if len(line) > LIMIT and not one_translation_or_option(line):
                found.append(f"vitreem/{name}:{number}: {len(line)} characters")
    return found


def test_no_template_line_is_over_200_characters():
    assert long_lines() == []


def test_the_rule_sees_long_lines():
    assert one_translation_or_option("  {% blocktranslate %}" + "x" * 300 + "{% endblocktranslate %}")
    assert one_translation_or_option("{% blocktranslate with n=a %}" + "x" * 300)
    assert one_translation_or_option('    {% translate "' + "x" * 300 + '" %}')
    assert not one_translation_or_option("<p>{% blocktranslate %}" + "x" * 300 + "{% endblocktranslate %}</p>")
    assert not one_translation_or_option("{% blocktranslate %}x{% endblocktranslate %} <a>" + "x" * 300 + "</a>")
    assert not one_translation_or_option('<p>{% translate "' + "x" * 300 + '" %}</p>')
    assert not one_translation_or_option("<td>" + "x" * 300 + "</td>")

