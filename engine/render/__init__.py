"""Stage 6, render: results and diagnostics as text, CSV, JSON, Markdown, JUnit..."""
