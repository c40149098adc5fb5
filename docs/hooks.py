"""mkdocs hooks.

The measured figures and tables under ``benchmarks/results`` become files of the
site, so a page links them where they lie in the repository (``../benchmarks/results/...``) and
the link works both when the Markdown is read in the repository and in the built site.

The docstrings cross-reference in reStructuredText roles (``:func:`name```), which Markdown
renders as the role's text before the code; the API pages show the code alone."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel

#: Folders outside ``docs/`` whose files pages may link, relative to the repository root.
SHARED = ("benchmarks/results",)

#: Kinds of file carried into the site (figures and the benchmarks' printed tables).
SUFFIXES = (".png", ".txt")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every shared figure and table as a site file under its repository path."""
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    for folder in SHARED:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.suffix in SUFFIXES:
                rel = path.relative_to(root).as_posix()
                files.append(
                    File(
                        f"../{rel}",  # as a page in docs/ names it
                        str(docs),
                        config["site_dir"],
                        config["use_directory_urls"],
                        dest_uri=rel,
                        # set here: the default rules would drop a name that starts with ..
                        inclusion=InclusionLevel.INCLUDED,
                    )
                )
    return files


#: A reStructuredText role before the code it marks (``:class:`~genesis.Architecture```), as
#: Markdown renders it.
_ROLE = re.compile(r":(?:py:)?(?:mod|func|class|data|meth|attr|exc|obj|const):<code>~?")


def on_page_content(html: str, page, config: MkDocsConfig, files: Files) -> str:
    """Drop the reStructuredText roles of the docstrings from the API pages."""
    if page.file.src_uri.startswith("api/"):
        return _ROLE.sub("<code>", html)
    return html
