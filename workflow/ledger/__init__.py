"""The office's data in and out (issue #12): Excel workbooks of every list (export), the loading
of an office's existing ledger (upload → importing), and printable forms (printing).

Plain functions over sessions and the unit of work, no Flask: the CLI and the web pages are
thin wrappers that pass a file in and send a file out."""
