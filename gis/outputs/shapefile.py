"""``gis export --to PATH.zip``: a run's layers as zipped Shapefiles, for ArcGIS, SuperMap and any GIS.

One Shapefile per layer of ``planning.gpkg`` (``.shp .shx .dbf .prj .cpg``; an attribute table as a ``.dbf``
and its ``.cpg``) named by the layer's plain name, in the GeoPackage's CRS, with ``fields.csv`` (the field
alias table, UTF-8 with a BOM so Excel reads it) and ``README.txt`` in the zip.

- Encoding: UTF-8 (``.cpg`` ``UTF-8``) by default; GBK on request: the text is written in code page 936, the
  ``.cpg`` says ``936`` (the code page number ArcGIS reads; GDAL and QGIS read it as CP936) and the DBF header's
  language driver byte says 0x4D (GBK), for readers that ignore the ``.cpg``.
- A character GBK cannot encode is written as its nearest equivalent where there is one (``−`` as ``-``, ``²``
  as ``2``), else as ``?``: each is counted, and README.txt lists the values it was in with their full text
  (GB18030 would keep them, but a GB18030 file read as GBK, as ArcGIS and SuperMap
  read a ``936`` file, shows such a character as two wrong ones; ``--encoding utf-8`` keeps every character).
- Field names: at most 10 characters, the data dictionary's documented Shapefile names; a field it does not
  know is cut to 10 bytes and made unique with ``_1``, ``_2``... in the order of the columns.
- Text longer than a DBF field holds (254 bytes in the chosen encoding) is cut at a character boundary,
  never inside a character; the cuts are counted per field in fields.csv and in the summary.
- Booleans are 0/1 integers: QGIS 3.22 (GDAL 3.6) reads a DBF logical field as text ('T', 'F', '?'), ArcGIS
  has no boolean type, and an integer reads the same everywhere.

The zip is written to a temporary file beside the target and renamed onto it when complete.
"""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyogrio

from gis.errors import UsageError
from gis.outputs._files import replaced_whole
from gis.outputs.exchange import (
    ExchangeLayer,
    ExchangeSummary,
    FieldAlias,
    check_target_folder,
    crs_label,
    field_aliases,
    plural,
    read_exchange_layers,
    staged_export,
)
from gis.outputs.folder import RunOutputs
from gis.project.catalog import SYNTHETIC_NOTE
from gis.project.vocabulary import SHAPEFILE_NAME_MAX, output_field

DBF_TEXT_BYTES = 254
"""The most bytes a DBF text field holds."""
FIELDS_CSV, README = "fields.csv", "README.txt"
LDID_OFFSET = 29
"""The byte of a DBF header that names its code page (the language driver id)."""
_DASHES = dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\ufe63", "-")
LISTED_MAX = 20
"""README.txt lists at most this many values with replaced characters (all are counted)."""


@dataclass(frozen=True)
class DbfEncoding:
    """How the DBF text of an export is encoded and declared."""

    label: str
    codec: str
    """Python codec and GDAL ENCODING (iconv) name."""
    cpg: str
    """What the ``.cpg`` file says."""
    ldid: int
    """The DBF header's language driver id (0: none)."""


ENCODINGS = {"utf-8": DbfEncoding("UTF-8", "UTF-8", "UTF-8", 0), "gbk": DbfEncoding("GBK", "CP936", "936", 0x4D)}


@dataclass(frozen=True)
class FittedText:
    """A text value as a DBF field holds it."""

    text: str
    cut: bool
    """Whether it was cut to :data:`DBF_TEXT_BYTES`."""
    replaced: int
    """Characters the encoding lacks, written as their nearest equivalent or '?'."""


@dataclass
class _Losses:
    """Values cut and characters replaced, per field, and the values whose characters were replaced."""

    cut: dict[tuple[str, str], int] = field(default_factory=dict)
    replaced: dict[tuple[str, str], int] = field(default_factory=dict)
    listed: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(layer.field, full text) of each value with replaced characters: the features it is in."""

    def total(self, counts: dict[tuple[str, str], int]) -> int:
        return sum(counts.values())


def export_shapefiles(run: RunOutputs, target: Path, *, encoding: str = "utf-8") -> ExchangeSummary:
    """Write the run's layers as Shapefiles zipped into ``target``, replacing an earlier zip whole.

    Raises
    ------
    UsageError
        ``target`` is not a ``.zip`` path in a folder that exists and may be written, is a folder, or the
        encoding is neither utf-8 nor gbk.
    DataError
        The run's GeoPackage cannot be read, or two layers would get the same plain name.
    OutputError
        The zip could not be written; ``target`` is then as it was.
    """
    target = check_zip_target(target)
    if encoding.lower() not in ENCODINGS:
        msg = f"--encoding {encoding}: not one of {', '.join(ENCODINGS)}; use utf-8 (the default) or gbk"
        raise UsageError(msg)
    dbf = ENCODINGS[encoding.lower()]
    with staged_export(target) as (staging, _):
        summary, files = _write_shapefiles(run, staging, target, dbf)
        with replaced_whole(target) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
    return summary


def check_zip_target(target: Path) -> Path:
    """``target`` if the zip may be written there; else a :class:`UsageError` naming it and the fix."""
    target = Path(target)
    if target.suffix.lower() != ".zip":
        msg = f"{target}: zipped Shapefiles go to a file whose name ends in .zip; give --to a name such as plan.zip"
        raise UsageError(msg)
    check_target_folder(target)
    if target.is_dir():
        msg = f"{target}: a folder of that name is in the way of the zip; move it or choose another --to"
        raise UsageError(msg)
    return target


def shapefile_field_names(columns: list[str], codec: str = "utf-8") -> dict[str, str]:
    """Each column's Shapefile field name (at most 10 bytes in ``codec``).

    A field the data dictionary knows gets its documented name; any other is cut to 10 bytes (never inside a
    character) and, when that name is taken (DBF names do not tell case apart), cut shorter and given ``_1``,
    ``_2``, ... Dictionary names are claimed first, then the others in column order, so the mapping depends
    only on the columns."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        known = output_field(column)
        if known is not None and known.shapefile.casefold() not in taken:
            names[column] = known.shapefile
            taken.add(known.shapefile.casefold())
    for column in columns:
        if column in names:
            continue
        clean = "".join(ch if _encodable(ch, codec) and ch.isprintable() else "_" for ch in column) or "field"
        name = _cut_bytes(clean, SHAPEFILE_NAME_MAX, codec)
        number = 0
        while name.casefold() in taken:
            number += 1
            suffix = f"_{number}"
            name = _cut_bytes(clean, SHAPEFILE_NAME_MAX - len(suffix), codec) + suffix
        names[column] = name
        taken.add(name.casefold())
    return {column: names[column] for column in columns}


def fit_text(value: str, codec: str, limit: int = DBF_TEXT_BYTES) -> FittedText:
    """``value`` as a DBF text field in ``codec`` holds it: characters the codec lacks replaced
    (:func:`nearest_character`), cut to ``limit`` bytes at a character boundary."""
    replaced = 0
    if not _encodable(value, codec):
        chars = []
        for ch in value:
            if _encodable(ch, codec):
                chars.append(ch)
            else:
                chars.append(nearest_character(ch, codec))
                replaced += 1
        value = "".join(chars)
    if len(value.encode(codec)) <= limit:
        return FittedText(value, cut=False, replaced=replaced)
    return FittedText(_cut_bytes(value, limit, codec), cut=True, replaced=replaced)


def nearest_character(ch: str, codec: str) -> str:
    """A stand-in for a character ``codec`` cannot encode: its compatibility form (² as 2, ｍ as m) or a plain
    hyphen for a dash (− as -) where that fits, else '?'."""
    for candidate in (unicodedata.normalize("NFKC", ch), _DASHES.get(ch, "")):
        if candidate and _encodable(candidate, codec):
            return candidate
    return "?"


def shapefile_frame(layer: ExchangeLayer, dbf: DbfEncoding, losses: _Losses | None = None) -> pd.DataFrame:
    """The layer's rows as the Shapefile holds them: fields renamed to their Shapefile names, text fitted to the
    DBF (losses counted in ``losses``), booleans as 0/1, integers as 32-bit where they fit."""
    losses = losses if losses is not None else _Losses()
    frame = layer.frame.copy()
    for column, kind in layer.kinds.items():
        values = frame[column]
        if kind == "text" or values.dtype == object:
            frame[column] = _fitted_column(layer, column, values, dbf, losses)
        elif kind == "integer" and pd.api.types.is_integer_dtype(values.dtype):
            fits = values.isna().all() or (values.min() >= -(2**31) and values.max() < 2**31)
            frame[column] = values.astype("Int32" if fits else "Int64")
        elif kind == "boolean" and isinstance(values.dtype, pd.BooleanDtype):
            frame[column] = values.astype("Int16")
    return frame.rename(columns=shapefile_field_names(layer.columns, dbf.codec))


def _fitted_column(layer: ExchangeLayer, column: str, values: pd.Series, dbf: DbfEncoding, losses: _Losses) -> list[object]:
    fitted: list[object] = []
    ids = layer.frame["feature_id"] if "feature_id" in layer.frame.columns else pd.Series(range(1, len(values) + 1))
    for value, feature in zip(values, ids, strict=True):
        if not isinstance(value, str):
            fitted.append(None if value is None or pd.isna(value) else value)
            continue
        fit = fit_text(value, dbf.codec)
        key = (layer.name, column)
        if fit.cut:
            losses.cut[key] = losses.cut.get(key, 0) + 1
        if fit.replaced:
            losses.replaced[key] = losses.replaced.get(key, 0) + fit.replaced
            losses.listed.setdefault((f"{layer.name}.{column}", value), []).append(str(feature))
        fitted.append(fit.text)
    return fitted


def _write_shapefiles(run: RunOutputs, staging: Path, target: Path, dbf: DbfEncoding) -> tuple[ExchangeSummary, list[Path]]:
    """Write every layer, fields.csv and README.txt into ``staging``; the summary and the files to zip, in order."""
    summary = ExchangeSummary(run_id=str(run.record["run_id"]), target=target, kind="Shapefiles", crs="no CRS")
    losses = _Losses()
    rows: list[FieldAlias] = []
    written: list[ExchangeLayer] = []
    files: list[Path] = []
    for layer in read_exchange_layers(run):
        frame = shapefile_frame(layer, dbf, losses)
        path = staging / f"{layer.name}{'.shp' if layer.spatial else '.dbf'}"
        _write_layer(path, frame, layer.geometry_options, dbf)
        files += [path.with_suffix(ext) for ext in ((".shp", ".shx", ".dbf", ".prj", ".cpg") if layer.spatial else (".dbf", ".cpg"))]
        rows.extend(field_aliases(layer, shapefile_field_names(layer.columns, dbf.codec)))
        written.append(layer)
        summary.features += len(layer.frame)
        if layer.spatial:
            summary.layers += 1
        else:
            summary.tables += 1
    summary.crs = crs_label(written)
    cut, replaced = losses.total(losses.cut), losses.total(losses.replaced)
    table = pd.DataFrame(
        [(f"{r.layer}{'.shp' if _spatial(written, r.layer) else '.dbf'}", r.written, r.field, r.alias_zh, r.alias_en, r.type,
          r.meaning, losses.cut.get((r.layer, r.field), 0), losses.replaced.get((r.layer, r.field), 0)) for r in rows],
        columns=["layer", "shapefile_field", "field", "alias_zh", "alias_en", "type", "meaning", "values_cut", "chars_replaced"],
    )
    table.to_csv(staging / FIELDS_CSV, index=False, encoding="utf-8-sig")
    (staging / README).write_text(_readme(run, summary, dbf, cut, replaced, losses.listed), encoding="utf-8-sig")
    missing = [path.name for path in files if not path.exists()]
    if missing:
        msg = f"GDAL did not write {', '.join(missing[:3])}"
        raise RuntimeError(msg)
    summary.notes.append(f"text in {dbf.label} (.cpg {dbf.cpg})")
    summary.notes.append(f"{plural(cut, 'text value')} longer than {DBF_TEXT_BYTES} bytes cut" if cut else "no text value cut")
    if dbf.label != "UTF-8":
        summary.notes.append(f"{plural(replaced, 'character')} {dbf.label} lacks replaced (README.txt)" if replaced
                             else f"every character fits {dbf.label}")
    summary.notes.append(f"field names and aliases in {FIELDS_CSV}")
    return summary, [staging / README, staging / FIELDS_CSV, *files]


def _write_layer(path: Path, frame: pd.DataFrame, geometry: dict[str, object], dbf: DbfEncoding) -> None:
    """One Shapefile (one .dbf for an attribute table), with its .cpg and DBF header declaring ``dbf``; ``geometry``:
    pyogrio's geometry arguments."""
    pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding=dbf.codec, **geometry)
    path.with_suffix(".cpg").write_text(dbf.cpg, encoding="ascii")
    with path.with_suffix(".dbf").open("r+b") as table:
        table.seek(LDID_OFFSET)
        table.write(bytes([dbf.ldid]))


def _readme(run: RunOutputs, summary: ExchangeSummary, dbf: DbfEncoding, cut: int, replaced: int,
            listed: dict[tuple[str, str], list[str]]) -> str:
    """README.txt of the zip: what it holds, its encoding, and what did not fit."""
    project = (run.record.get("project") or {}).get("name") if isinstance(run.record.get("project"), dict) else None
    declared = f'.cpg "{dbf.cpg}"' + (f", DBF language driver 0x{dbf.ldid:02X}" if dbf.ldid else "")
    lines = [
        "规划图层 Shapefile 压缩包 / the layers of a gis run as zipped Shapefiles",
        "",
        f"运行 run: {summary.run_id}" + (f"   项目 project: {project}" if project else ""),
    ]
    if run.synthetic:
        lines.append(f"合成数据：并非真实设施数据 / {SYNTHETIC_NOTE}")
    lines += [
        f"图层 layers: {plural(summary.layers, 'Shapefile')} and {plural(summary.tables, 'table')} (.dbf), {summary.features} features and rows",
        f"坐标系 CRS: {summary.crs} (.prj)",
        f"编码 encoding: {dbf.label} ({declared})",
        "",
        f"字段 fields: Shapefile field names have at most {SHAPEFILE_NAME_MAX} characters; {FIELDS_CSV} gives each one's full name,",
        "Chinese and English alias, type and meaning. Booleans are integers: 1 true, 0 false.",
        f"截断 cut: text longer than {DBF_TEXT_BYTES} bytes is cut at a character boundary: {plural(cut, 'value')} "
        f"({FIELDS_CSV}: values_cut; the full text is in planning.gpkg).",
    ]
    if dbf.label != "UTF-8":
        lines.append(f"替换 replaced: characters {dbf.label} cannot encode are written as their nearest equivalent (− as -, ² as 2) "
                     f"or as '?': {plural(replaced, 'character')} ({FIELDS_CSV}: chars_replaced); "
                     "export with --encoding utf-8 to keep them.")
        if listed:
            lines += ["", f"含替换字符的值（原文）/ values with replaced characters, in full ({min(len(listed), LISTED_MAX)} of {len(listed)}):"]
            for (where, text), features in list(listed.items())[:LISTED_MAX]:
                lines.append(f"- {where} ({', '.join(features[:3])}{', ...' if len(features) > 3 else ''}): {text}")
    return "\n".join(lines) + "\n"


def _spatial(layers: list[ExchangeLayer], name: str) -> bool:
    return next((layer.spatial for layer in layers if layer.name == name), True)


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _cut_bytes(text: str, limit: int, codec: str) -> str:
    """The longest start of ``text`` whose encoding takes at most ``limit`` bytes (whole characters only)."""
    size = 0
    for index, ch in enumerate(text):
        size += len(ch.encode(codec))
        if size > limit:
            return text[:index]
    return text
