"""Reports: everything that renders run folders (HTML, Markdown, comparisons, frames)."""
