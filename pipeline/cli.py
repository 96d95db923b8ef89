"""The `regkb` command: parses options and calls the library, nothing more."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from functools import wraps
from pathlib import Path

import click

from .models import RegkbError
from .readmodel import TABLES, TITLES

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Knowledge base file (default outputs/regkb.db).",
)
MANIFEST_OPTION = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    envvar="REGKB_MANIFEST",
    help="Corpus manifest (default corpus/manifest.toml, or $REGKB_MANIFEST); "
    "give it again to add more, e.g. a folder of letters with its own manifest.",
)
CORPUS_OPTION = click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the documents (default $REGKB_CORPUS, then ../shared/corpus; "
    "corpus/files/ is always searched too).",
)


def _db(db_path: Path | None) -> Path:
    """The knowledge base file. One that exists must be a regular file: a named pipe would block every
    command that opens it, and a device is no database (`build` also refuses any file that is not a
    knowledge base, see store.check_target)."""
    from .build import DEFAULT_DB
    from .ingest import file_kind
    from .workspace import current

    path = db_path or (DEFAULT_DB if current().checkout else current().db)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path  # absent (build creates it; the others say it is missing) or unreachable: said later
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a folder is refused by each command in its words
        raise RegkbError(f"{path}: is {file_kind(mode)}, not a knowledge base file")
    return path


def friendly_errors(command):
    """A RegkbError becomes one clear line on stderr and exit status 1, never a traceback; so does an
    operating-system error on a path the user gave (a name too long, a folder not allowed, a full disk)."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RegkbError as exc:
            click.echo(f"regkb: error: {exc}", err=True)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"regkb: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="regkb")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="REGKB_HOME",
    default=None,
    help="Folder for everything added, fetched, imported and built (default $REGKB_HOME, else "
    "./regkb-workspace/, or the checkout's own corpus/ and outputs/ when run in it).",
)
def main(workspace):
    """regkb: the AI Diffusion rule and the reaction to it as a searchable, pin-cited knowledge base."""
    from .workspace import choose

    choose(workspace)


@main.command()
@MANIFEST_OPTION
@CORPUS_OPTION
@DB_OPTION
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="REGKB_CACHE",
    help="Folder of the per-document cache (default outputs/cache, or $REGKB_CACHE).",
)
@click.option("--force", is_flag=True, help="Rebuild every document, ignoring the cache.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes for documents and PDF pages (default: all cores).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where documents are parsed: this machine, or a Dask distributed cluster.",
)
@click.option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler address for --engine dask, e.g. tcp://10.0.0.5:8786."
)
@click.option(
    "--embed",
    "embed_letters",
    type=click.Choice(["auto", "all", "engaging"]),
    default="auto",
    show_default=True,
    help="Which letters' paragraphs get embeddings for semantic search: all; only those engaging with a "
    "rule (naming it, its provisions or export controls, or holding a position); auto = all up to "
    "20,000 letter paragraphs, else engaging. The rules' paragraphs always do.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@friendly_errors
def build(manifest_path, corpus, db_path, cache_dir, force, workers, engine, scheduler, embed_letters, as_json):
    """Build the knowledge base from the documents of the manifest that are present."""
    from .build import build as run_build
    from .progress import on_terminal, progress_bar

    with progress_bar(
        "parsing documents", on_terminal(as_json), then="linking and writing the knowledge base"
    ) as progress:
        report = run_build(
            manifest_path,
            corpus,
            _db(db_path),
            cache_dir,
            force=force,
            workers=workers,
            progress=progress,
            engine=engine,
            scheduler=scheduler,
            embed_letters=embed_letters,
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        if report.up_to_date:
            click.echo(f"up to date: {report.db_path} ({report.paragraphs} paragraphs, nothing changed)")
        else:
            click.echo(
                f"built {report.db_path}: {report.paragraphs} paragraphs in {report.seconds:.1f} s "
                f"(parsed {len(report.built)}, from cache {len(report.cached)})"
            )
        for entry in report.missing:
            click.echo(
                f"missing: {entry.id} ({entry.file}) not on this machine; `regkb fetch` downloads it from {entry.url}"
            )
        for doc_id in report.carried_over:
            click.echo(f"kept: {doc_id} from the previous build (this build could not read it)")
    for problem in report.problems:
        click.echo(f"regkb: error: {problem['problem']}", err=True)
    if report.problems:
        sys.exit(1)


@main.command()
@click.argument("query")
@DB_OPTION
@click.option("--doc", help="Only this document id.")
@click.option("--section", help="Only section paths starting with this, e.g. '§ 740.29'.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--mode",
    type=click.Choice(["bm25", "hybrid", "semantic"]),
    default="bm25",
    show_default=True,
    help="bm25: words; semantic: meaning (embeddings); hybrid: both, fused by reciprocal rank.",
)
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@friendly_errors
def search(query, db_path, doc, section, limit, mode, as_json):
    """Search paragraphs by words (BM25) or meaning, with section path and pin cite."""
    from .query import search as run_search

    hits = run_search(_db(db_path), query, doc=doc, section=section, limit=limit, mode=mode)
    if as_json:
        click.echo(json.dumps([hit.to_dict() for hit in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo(f"no paragraph matches {query!r}")
        return
    for rank, hit in enumerate(hits, start=1):
        click.echo(click.style(f"{rank}. {hit.section_path or '(no section)'}", bold=True) + f"  —  {hit.pin_cite}")
        click.echo(f"   {hit.id}  [{hit.doc_id}]")
        snippet = re.sub(r"\[([^\]]*)\]", lambda m: click.style(m.group(1), fg="yellow", bold=True), hit.snippet)
        click.echo(f"   {snippet}\n")


@main.command()
@click.argument("paragraph_id")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def show(paragraph_id, db_path, as_json):
    """Show one paragraph in full with its provenance (a definition id, def:…, shows its term's whole story)."""
    from .query import get_paragraph

    if paragraph_id.startswith("def:"):
        return _show_definition(paragraph_id, db_path, as_json)

    row = get_paragraph(_db(db_path), paragraph_id)
    if as_json:
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    click.echo(click.style(row["section_path"] or "(no section)", bold=True) + f"  —  {row['pin_cite']}")
    click.echo(
        f"{row['doc_title']} · page {row['page']}" + (f" (printed {row['page_label']})" if row["page_label"] else "")
    )
    click.echo("")
    click.echo(row["text"])


@main.command()
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def docs(db_path, as_json):
    """List the documents in the knowledge base."""
    from .query import list_documents

    rows = list_documents(_db(db_path))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"{row['id']:<44} {row['doc_type']:<9} {row['date']:<10} {row['page_count']:>4} pp "
            f"{row['paragraphs']:>5} ¶  {row['author_org']}"
            + ("" if row["status"] == "built" else f"  [{row['status']}]")
        )


@main.command()
@MANIFEST_OPTION
@CORPUS_OPTION
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds per download.")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def fetch(manifest_path, corpus, timeout, as_json):
    """Download manifest documents that are not on this machine (needs internet)."""
    from .fetch import fetch_missing
    from .progress import on_terminal, progress_bar

    with progress_bar("fetching missing documents", on_terminal(as_json)) as progress:
        results = fetch_missing(manifest_path, corpus, timeout=timeout, progress=progress)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        for result in results:
            click.echo(f"{result.status:<8} {result.id}  {result.detail}")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        click.echo(
            f"regkb: error: {len(failed)} document(s) could not be downloaded; "
            "the build uses the documents that are present",
            err=True,
        )
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", required=True, help="Author organisation, e.g. 'ITI'.")
@click.option("--date", required=True, help="Date of the document, YYYY-MM-DD.")
@click.option(
    "--type",
    "doc_type",
    type=click.Choice(["rule", "comment", "statement", "news", "analysis"]),
    default="comment",
    show_default=True,
)
@click.option("--title", help="Title (default: the file name).")
@click.option("--id", "doc_id", help="Document id (default: from org, date and file name).")
@click.option("--language", default="en", show_default=True)
@click.option("--url", default="", help="Public URL of the original.")
@MANIFEST_OPTION
@friendly_errors
def add(file, org, date, doc_type, title, doc_id, language, url, manifest_path):
    """Add your own document (a letter you downloaded) to the corpus."""
    add_document(file, org, date, doc_type, title, doc_id, language, url, manifest_path[0] if manifest_path else None)


# how `regkb add` names the manifest's fields in its messages
ADD_LABELS = {
    "id": "--id",
    "title": "--title",
    "doc_type": "--type",
    "author_org": "--org",
    "date": "--date",
    "language": "--language",
    "url": "--url",
    "file": "the file name",
}


def add_document(
    file: Path,
    org: str,
    date: str,
    doc_type: str,
    title: str | None,
    doc_id: str | None,
    language: str,
    url: str,
    manifest: Path | None,
) -> None:
    """All or nothing: every field is checked (types, an existing date, the id's form, control
    characters, text that is not UTF-8), the document read and segmented as the build would, and the
    manifest checked, before anything is written; then the file is copied into corpus/files/ and the
    manifest rewritten in one swap. Any failure leaves neither a copied file nor a changed manifest."""
    from dataclasses import replace

    from . import manifest as manifest_mod
    from .document import _stage
    from .ingest import read_document, sha256_file
    from .manifest import append_entry, manifest_with
    from .store.files import copy_file
    from .workspace import current, files_for

    if manifest is None:
        current().ensure()
    # the workspace's files/ (corpus/files/ in the checkout), or beside a manifest given with --manifest
    USER_FILES = files_for(manifest)
    if USER_FILES == current().files and current().checkout:
        USER_FILES = manifest_mod.USER_FILES
    from .models import DocumentError, ManifestEntry
    from .segment import segment

    default_id = re.sub(r"[^a-z0-9]+", "-", f"{org}-{date}-{file.stem}".lower()).strip("-")[:80].strip("-")
    entry = ManifestEntry(
        id=doc_id or default_id,
        title=title or file.stem,
        doc_type=doc_type,
        author_org=org,
        date=date,
        language=language,
        url=url,
        file=file.name,
    )
    if not doc_id and not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,80}", entry.id):
        raise RegkbError(f"cannot make a document id from --org, --date and the file name ({entry.id!r}); give --id")
    manifest_with(entry, manifest, ADD_LABELS)  # the fields and the manifest, before the file is even read
    raw = read_document(file)  # refuse a file the build could not read
    if not _stage("segmenting", file, segment, raw, entry):
        raise DocumentError(str(file), "no paragraphs could be segmented from this document")
    entry = replace(entry, sha256=raw.sha256)
    target = USER_FILES / file.name
    copied = None
    try:
        USER_FILES.mkdir(parents=True, exist_ok=True)
        if target.resolve() != file.resolve():
            if target.exists():
                if sha256_file(target) != raw.sha256:
                    raise RegkbError(f"{target}: a different file of that name is already in the corpus")
            else:
                # copied under a temporary name and renamed: the corpus never holds half a file
                try:
                    copied = copy_file(file, target, raw.sha256)
                except ValueError as exc:
                    raise RegkbError(str(exc)) from exc
        written = append_entry(entry, manifest, ADD_LABELS)
    except BaseException:
        if copied is not None:
            copied.unlink(missing_ok=True)
        raise
    click.echo(f"added {entry.id} ({len(raw.pages)} pages) to {written}; run `regkb build` to include it")


@main.command()
@DB_OPTION
@click.option(
    "--annotations",
    "annotations_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of gold annotations (default annotations/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report (misses, spurious rows, health) as JSON.")
@friendly_errors
def evaluate(db_path, annotations_dir, as_json):
    """Score the extractors against the gold annotations; exit 1 below the F1 floors."""
    from .evaluate import evaluate as run_evaluate
    from .manifest import PROJECT_ROOT
    from .patterns import read_jsonl
    from .query import connect_readonly

    folder = annotations_dir or PROJECT_ROOT / "annotations"
    gold = {
        path.relative_to(folder).with_suffix("").as_posix(): read_jsonl(path)
        for path in sorted(folder.rglob("*.jsonl"))
    }
    if not gold:
        raise RegkbError(f"{folder}: no *.jsonl gold annotations found")
    with connect_readonly(_db(db_path)) as conn:
        report = run_evaluate(conn, gold)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{'extractor':<15} {'precision':>9} {'recall':>7} {'F1':>6} {'floor':>6}   tp  fp  fn")
        for name, score in report["scores"].items():
            click.echo(
                f"{name:<15} {score['precision']:>9.3f} {score['recall']:>7.3f} {score['f1']:>6.3f} "
                f"{report['floors'].get(name, 0):>6.2f} {score['tp']:>4} {score['fp']:>3} {score['fn']:>3}"
                + ("  BELOW FLOOR" if name in report["failing"] else "")
            )
            notes = {k: v for k, v in score["notes"].items() if not isinstance(v, list)}
            if notes:
                click.echo("                " + ", ".join(f"{k}={v}" for k, v in notes.items()))
        click.echo("\nby gold set (documents nobody tuned for: other-rules, docket)")
        for set_name, scores in report["by_set"].items():
            for name, score in scores.items():
                click.echo(
                    f"  {set_name:<12} {name:<14} P {score['precision']:.3f}  R {score['recall']:.3f}  "
                    f"F1 {score['f1']:.3f}  ({score['tp']} found, {score['fn']} missed, {score['fp']} spurious)"
                )
        health = report["health"]
        click.echo("\nparse health")
        click.echo(
            f"  sections about definitions with no definition: {len(health['definition_sections_without_definitions'])}"
        )
        click.echo(f"  numeric limits with no unit extracted:         {health['numeric_limits_without_unit_count']}")
        click.echo(f"  country names that did not resolve:            {len(health['unresolved_country_names'])}")
        click.echo(f"  paragraphs without a page:                     {health['paragraphs_without_page']}")
        click.echo(f"  numbers with no subject:                       {health['numbers_without_subject_count']}")
        click.echo(f"  preamble headings out of sequence:             {len(health['preamble_outline_breaks'])}")
        for item in health["preamble_outline_breaks"][:5]:
            click.echo(f"    {item['doc_id']}: {item['section_path'].rsplit(' > ', 1)[-1][:70]} ({item['problem']})")
        click.echo(
            f"  table of contents against headings found:      "
            f"{len(health['table_of_contents_disagreements'])} disagreements"
        )
    if report["failing"]:
        click.echo(f"regkb: error: F1 below the floor for {', '.join(report['failing'])}", err=True)
        sys.exit(1)


@main.command()
@click.argument("name", type=click.Choice(TABLES))
@DB_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["md", "csv", "html", "json", "xlsx"]), default="md", show_default=True
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default outputs/tables/).",
)
@friendly_errors
def table(name, db_path, fmt, out_dir):
    """Write a comparison table (definitions, countries matrix, thresholds, positions matrix, claims vs rule,
    dates, diff of the two versions, contradictions) to outputs/tables/."""
    from .query import connect_readonly
    from .store import write_table_file
    from .tables import build_table, render
    from .workspace import current

    folder = out_dir or current().outputs / "tables"
    with connect_readonly(_db(db_path)) as conn:
        columns, rows = build_table(conn, name)
        if fmt == "xlsx":
            from .xlsx import write_workbook

            path = write_workbook(conn, folder / f"{name}.xlsx", [name])
        else:
            path = write_table_file(folder / f"{name}.{fmt}", render(columns, rows, fmt, TITLES[name]))
        claimed = []
        if name == "dates":
            from .dates import claimed_dates

            claimed = claimed_dates(conn)
    click.echo(f"wrote {path} ({len(rows)} rows × {len(columns)} columns)")
    for claim in claimed:
        click.echo(
            f"not a date of the rule: {claim['document']} says “{claim['says']}” after publication "
            f"({claim['pin cite'][:60]}); "
            + (
                "the rule has such a date"
                if claim["in the rule"]
                else "no date of the rule is that long after publication"
            )
        )


@main.command()
@click.argument("item_id", metavar="ID")
@DB_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "bibtex", "csl-json"]), default="text", show_default=True
)
@friendly_errors
def cite(item_id, db_path, fmt):
    """Cite a paragraph, definition (def:…), threshold (thr:…), country list (list:…) or position (pos:…)."""
    from .cite import lookup, render

    click.echo(render(lookup(_db(db_path), item_id), fmt))


@main.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="0 picks a free port.")
@friendly_errors
def serve(db_path, host, port):
    """Browse the knowledge base in datasette, read-only (immutable), with facets, search and canned queries."""
    from .serve import run

    run(_db(db_path), host=host, port=port)


@main.command()
@DB_OPTION
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "md"]),
    multiple=True,
    help="Report format(s) to write (default both).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default outputs/report/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the files written as a JSON list.")
@friendly_errors
def report(db_path, formats, out_dir, as_json):
    """Write a self-contained report (tables, per-organisation positions with citations, figures)."""
    from .progress import on_terminal, progress_bar
    from .report import write_report
    from .workspace import current

    with progress_bar("making the report", on_terminal(as_json), then="writing the files") as progress:
        written = write_report(
            _db(db_path), out_dir or current().outputs / "report", formats or ("html", "md"), progress
        )
    if as_json:
        click.echo(json.dumps([str(path) for path in written], indent=2))
    else:
        for path in written:
            click.echo(f"wrote {path}")


def _show_definition(definition_id, db_path, as_json):
    from .query import connect_readonly
    from .story import definition_term

    with connect_readonly(_db(db_path)) as conn:
        term = definition_term(conn, definition_id)
    _echo_term(term, db_path, as_json, highlight=definition_id)


@main.command(name="diff")
@click.argument("doc_a", required=False, default="bis-2025-00636-pi")
@click.argument("doc_b", required=False, default="bis-2025-00636-regtext")
@DB_OPTION
@click.option("--section", help="Only section paths starting with this, e.g. '§ 748.15'.")
@click.option("--all", "show_all", is_flag=True, help="List unchanged paragraphs too.")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def diff_command(doc_a, doc_b, db_path, section, show_all, as_json):
    """Compare two versions of a rule paragraph by paragraph (default: public inspection vs published text)."""
    from .diff import compare, describe, status_label
    from .query import connect_readonly

    with connect_readonly(_db(db_path)) as conn:
        comparison = compare(conn, doc_a, doc_b, section)
    counts = comparison.counts()
    if as_json:
        click.echo(
            json.dumps({"counts": counts, "rows": [r.to_dict() for r in comparison.rows]}, indent=2, ensure_ascii=False)
        )
        return
    click.echo(
        f"{doc_b} against {doc_a}" + (f" under {section}" if section else "") + f": {counts['b_paragraphs']} "
        f"paragraphs: {counts['identical']} identical, {counts['unchanged']} differ only in spacing, "
        f"{counts['typography']} only in typography (quotes, dashes, case, broken words), {counts['changed']} "
        f"changed, {counts['only_in_b']} only in {doc_b}; {counts['only_in_a']} only in {doc_a} "
        f"({counts['outside_b']} more of {doc_a} are in provisions {doc_b} does not contain)"
    )
    for row in comparison.rows:
        if row.status in ("identical", "unchanged", "typography") and not show_all:
            continue
        click.echo(
            f"\n{status_label(row, doc_a, doc_b)}  {row.section_path}  —  "
            + " / ".join(p for p in (row.a_pin_cite, row.b_pin_cite) if p)
        )
        click.echo("   " + (describe(row) or " ".join((row.b_text or row.a_text).split())[:300]))


@main.command()
@click.argument("provision")
@DB_OPTION
@click.option("--doc", "doc_id", help="Rule document to read it from (default: the largest rule that has it).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def provision(provision, db_path, doc_id, as_json):
    """A provision's whole story: text, definitions, thresholds, preamble, changes and positions on it."""
    from .query import connect_readonly
    from .story import provision_story

    with connect_readonly(_db(db_path)) as conn:
        story = provision_story(conn, provision, doc_id)
    if as_json:
        click.echo(json.dumps(story, indent=2, ensure_ascii=False))
        return
    click.echo(click.style(f"{story['provision']}  [{story['doc_id']}]", bold=True) + f"  {story['heading'][:100]}")
    click.echo(f"\ntext ({len(story['paragraphs'])} paragraphs)")
    for p in story["paragraphs"]:
        click.echo(f"  {p['section_path']}  —  {p['pin_cite']}\n    {_one_line(p['text'], 240)}")
    click.echo(f"\ndefinitions it uses ({len(story['uses'])})")
    for d in story["uses"]:
        click.echo(
            f"  {d['term']} [{d['kind']}, scope {d['scope']}] {d['uses']}×  — defined at {d['pin_cite']} ({d['id']})"
        )
    if story["defines"]:
        click.echo(f"\ndefinitions it gives ({len(story['defines'])})")
        for d in story["defines"]:
            click.echo(f"  {d['term']} [{d['kind']}]: {_one_line(d['definition'], 160)}  — {d['pin_cite']}")
    click.echo(f"\nthresholds ({len(story['thresholds'])})")
    for t in story["thresholds"]:
        click.echo(
            f"  {t['quantity']} {t['comparator']} {t['value_text'] or t['value']:g} {t['unit']}: "
            f"“{t['matched_text']}”  — {t['pin_cite']}"
            if t["value"] is not None
            else f"  {t['quantity']}: “{t['matched_text']}”  — {t['pin_cite']}"
        )
    if story["country_lists"] or story["country_groups"]:
        click.echo("\ncountry lists and groups")
        for cl in story["country_lists"]:
            click.echo(f"  {_one_line(cl['label'], 80)} ({cl['member_count']} countries)  — {cl['pin_cite']}")
        for g in story["country_groups"]:
            click.echo(f"  {g['group_name']} ({g['mentions']}×)  — {g['pin_cite']}")
    click.echo(f"\nwhat the preamble says about it ({len(story['preamble'])} paragraphs)")
    for p in story["preamble"][:12]:
        click.echo(f"  {p['pin_cite']} ({p['why']}): {_one_line(p['text'], 200)}")
    click.echo(
        f"\nchanges between versions ({len(story['changes'])})"
        if story["changes"]
        else "\nchanges between versions: none (every paragraph the published text has is unchanged)"
    )
    for c in story["changes"]:
        click.echo(f"  {c['status']}  {c['section_path']}: {_one_line(c['changes'], 200)}")
    total = sum(g["count"] for g in story["positions"])
    click.echo(f"\npositions linked to it ({total}, by stance and organisation)")
    for g in story["positions"]:
        extra = (f", +{g['copies']} copies" if g["copies"] else "") + (
            f", a campaign of {g['campaign_documents']} letters" if g["campaign_documents"] > 1 else ""
        )
        click.echo(click.style(f"  {g['stance']} · {g['org']} ({g['count']}{extra})", bold=True))
        for q in g["quotes"][:3]:
            click.echo(f"    “{_one_line(q['quote'], 200)}” — {q['pin_cite']} [{q['id']}]")
        if g["count"] > 3:
            click.echo(f"    … and {g['count'] - 3} more (--json lists them all)")


@main.command()
@click.argument("term")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def term(term, db_path, as_json):
    """A term's whole story: every definition (scope, pin cite), definitions by reference, every use."""
    _echo_term(term, db_path, as_json)


def _echo_term(term, db_path, as_json, highlight=None):
    from .query import connect_readonly
    from .story import term_story

    with connect_readonly(_db(db_path)) as conn:
        story = term_story(conn, term)
    if as_json:
        click.echo(json.dumps(story, indent=2, ensure_ascii=False))
        return
    click.echo(
        click.style(f"“{story['term']}”", bold=True) + f": {len(story['definitions'])} definitions, "
        f"{len(story['wordings'])} wordings, {len(story['usages'])} paragraphs use it"
    )
    for n, wording in enumerate(story["wordings"], start=1):
        click.echo(f"\nwording {n}: {_one_line(wording[0]['definition'], 300)}")
        for d in wording:
            mark = "  ← " if d["id"] == highlight else "    "
            click.echo(f"{mark}{d['doc_id']}  scope {d['scope'] or '—'} [{d['kind']}]  {d['pin_cite']}  ({d['id']})")
    if story["by_reference"]:
        click.echo("\ndefinitions by reference")
        for d in story["by_reference"]:
            click.echo(f"    {_one_line(d['definition'], 120)} → {d['target']}  {d['pin_cite']}  ({d['id']})")
    if story["mentioned_in"]:
        click.echo("\nother definitions that use it")
        for d in story["mentioned_in"][:10]:
            click.echo(f"    {d['term']}: {_one_line(d['definition'], 120)}  {d['pin_cite']}")
    click.echo(f"\nparagraphs that use it ({len(story['usages'])})")
    for u in story["usages"][:15]:
        click.echo(f"    {u['section_path'] or '—'}  —  {u['pin_cite']}  ({u['id']})")
    if len(story["usages"]) > 15:
        click.echo(f"    … and {len(story['usages']) - 15} more (--json lists them all)")


@main.command()
@DB_OPTION
@click.option("--doc", "doc_ids", multiple=True, help="Only this rule document (again for more).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def contradictions(db_path, doc_ids, as_json):
    """Where a rule disagrees with itself: figures, definitions, cross-references, with both pin cites."""
    from .contradictions import find
    from .query import connect_readonly

    with connect_readonly(_db(db_path)) as conn:
        found = find(conn, list(doc_ids) or None)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no contradictions found")
    for c in found:
        click.echo(click.style(f"{c.kind}: {c.subject}", bold=True) + f"  [{c.doc_id}]")
        click.echo(f"   {_one_line(c.first, 220)}  — {c.first_pin_cite}")
        click.echo(f"   {_one_line(c.second, 220)}" + (f"  — {c.second_pin_cite}" if c.second_pin_cite else ""))
        click.echo(f"   ({c.note})")


@main.command()
@DB_OPTION
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Workbook to write (default outputs/tables/regkb.xlsx).",
)
@friendly_errors
def xlsx(db_path, out_path):
    """Every comparison table in one Excel workbook: a sheet each, frozen header, pin cites as links."""
    from .query import connect_readonly
    from .tables import TABLES
    from .workspace import current
    from .xlsx import write_workbook

    with connect_readonly(_db(db_path)) as conn:
        path = write_workbook(conn, out_path or current().outputs / "tables" / "regkb.xlsx")
    click.echo(f"wrote {path} ({len(TABLES)} sheets: {', '.join(TABLES)})")


@main.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--metadata",
    "metadata",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A regulations.gov bulk download's metadata CSV (organisation, date, title by Document ID).",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Manifest to write (default the workspace's manifest.toml).",
)
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def import_(folder, metadata, manifest_path, as_json):
    """List a folder of documents (a docket's responses) in the workspace manifest, without copying them."""
    from .importer import import_folder
    from .progress import on_terminal, progress_bar
    from .workspace import DEFAULT_NAME, at, current

    ws = current()
    if ws.checkout and not manifest_path:
        # never thousands of entries in the package's own corpus manifest: a workspace beside it, which
        # every later command run here then uses (workspace.current, rule 2)
        ws = at(Path.cwd() / DEFAULT_NAME)
    target = manifest_path or ws.ensure().manifest
    with progress_bar("listing documents", on_terminal(as_json)) as progress:
        result = import_folder(folder, target, metadata, progress=progress, others=current().manifests())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "manifest": str(result.manifest),
                    "folder": str(result.folder),
                    "added": len(result.added),
                    "already_listed": result.already,
                    "skipped": [{"file": f, "why": why} for f, why in result.skipped],
                    "seconds": round(result.seconds, 2),
                },
                indent=2,
            )
        )
        return
    for _, why in result.skipped:
        click.echo(f"skipped: {why}", err=True)
    click.echo(
        f"listed {len(result.added)} new documents of {result.folder} in {result.manifest} "
        f"({result.already} already listed, {len(result.skipped)} skipped) in {result.seconds:.1f} s; "
        "run `regkb build` to include them"
    )


@main.command()
@DB_OPTION
@MANIFEST_OPTION
@CORPUS_OPTION
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV of the whole ranking (default the workspace's outputs/tables/triage.csv).",
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True, help="Rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the shown rows as JSON.")
@friendly_errors
def triage(db_path, manifest_path, corpus, out_path, limit, as_json):
    """Rank every document by how it engages with the rule(s) of the knowledge base, with the evidence."""
    from .progress import on_terminal, progress_bar
    from .store import write_table_file
    from .triage import to_csv, triage_manifests
    from .workspace import current

    with progress_bar("reading documents", on_terminal(as_json)) as progress:
        found = triage_manifests(_db(db_path), manifest_path or None, corpus, progress)
    target = out_path or current().outputs / "tables" / "triage.csv"
    write_table_file(target, to_csv(found))
    rows = [d.to_row(rank) for rank, d in enumerate(found[:limit], start=1)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    counts = {
        label: sum(d.relevance == label for d in found)
        for label in ("names the rule", "discusses its provisions", "export controls", "other")
    }
    click.echo(
        f"triaged {len(found)} documents: "
        + ", ".join(f"{n} {label}" for label, n in counts.items())
        + f"; wrote {target}"
    )
    for row in rows:
        click.echo(
            f"{row['rank']:>4}. {row['relevance_score']:>5.1f}  {row['relevance']:<24} {row['doc_id']}  "
            f"({_one_line(row['author_org'], 40)})"
        )
        click.echo(f"        {_one_line(row['relevance_evidence'], 150)}")


def _one_line(text, limit):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


if __name__ == "__main__":
    main()
