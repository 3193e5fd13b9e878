"""Shared by the benchmark scripts: writes one `## ...` section of docs/benchmarks.md."""


def replace_section(doc_path, section, section_text):
    """Replaces the section headed `section` (up to the next `## ` heading) with `section_text`,
    or appends it when the file has no such section; the rest of the file is kept."""
    text = doc_path.read_text() if doc_path.exists() else "# Benchmarks\n"
    start = text.find(section + "\n")
    if start < 0:
        new = text.rstrip("\n") + "\n\n" + section_text
    else:
        nxt = text.find("\n## ", start + len(section))
        rest = "" if nxt < 0 else text[nxt + 1 :]
        new = text[:start] + section_text + ("\n" + rest if rest else "")
    doc_path.write_text(new)
