"""HTML -> PDF with WeasyPrint (BSD), offline: the renderer may read data: URLs only (charts are
embedded as data URIs), so a document can never fetch anything from the network or the disk."""

from __future__ import annotations


class RefusedFetch(ValueError):
    """A document asked for something other than a data: URL: nothing is rendered."""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a standalone HTML document (its styles inline, images as data: URLs)."""
    import weasyprint  # deferred: loads Pango through cffi, about a second, in the processes that print
    from weasyprint.urls import FatalURLFetchingError  # deferred: with the renderer

    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    try:
        pdf: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: made an ordinary error
        raise RefusedFetch(f"a document may only embed data: URLs ({exc})") from None
    return pdf
