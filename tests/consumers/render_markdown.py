"""Renders a Markdown file as GitHub does (cmark-gfm with its extensions:
tables, autolinks, strikethrough, tag filter) and prints the HTML."""
import sys

import cmarkgfm
from cmarkgfm.cmark import Options

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
print(cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE))
