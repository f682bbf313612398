"""Reference pages generated from the code at build time (a MkDocs hook): each figure and option
has one source, the code, and a page cannot drift from it."""
