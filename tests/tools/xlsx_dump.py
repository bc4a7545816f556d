#!/usr/bin/env python3
"""Prints an .xlsx file as text, for golden tests: every sheet (its name, frozen rows, autofilter
range), every cell as REF TYPE VALUE [FORMAT] [=FORMULA] (TYPE n: number, s: string), and the
charts (type, title, series ranges). Reads the zip and the sheet XML only (no spreadsheet library).
    xlsx_dump.py FILE.xlsx
"""
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


def main(path):
    z = zipfile.ZipFile(path)
    shared = [si.findtext("m:t", "", NS) or "".join(t.text or "" for t in si.iter("{%s}t" % NS["m"]))
              for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    styles = ET.fromstring(z.read("xl/styles.xml"))
    numfmts = {n.get("numFmtId"): n.get("formatCode") for n in styles.findall("m:numFmts/m:numFmt", NS)}
    builtin = {"0": None, "3": "#,##0", "10": "0.00%"}
    xfs = [numfmts.get(x.get("numFmtId"), builtin.get(x.get("numFmtId"), "builtin " + x.get("numFmtId", "0")))
           for x in styles.findall("m:cellXfs/m:xf", NS)]
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    for sheet in wb.findall("m:sheets/m:sheet", NS):
        target = rels[sheet.get("{%s}id" % NS["r"])]
        ws = ET.fromstring(z.read("xl/" + target))
        pane = ws.find("m:sheetViews/m:sheetView/m:pane", NS)
        af = ws.find("m:autoFilter", NS)
        print(f"== sheet {sheet.get('name')}" + (f" frozen={pane.get('ySplit')}" if pane is not None else "") +
              (f" autofilter={af.get('ref')}" if af is not None else ""))
        for c in ws.iter("{%s}c" % NS["m"]):
            t = c.get("t", "n")
            v = c.findtext("m:v", None, NS)
            f = c.findtext("m:f", None, NS)
            fmt = xfs[int(c.get("s", "0"))]
            if t == "s":
                v = shared[int(v)]
            elif v is not None:
                x = float(v)  # the double Excel reads, printed shortest
                v = str(int(x)) if x.is_integer() else repr(x)
            print(f"{c.get('r')} {t} {v}" + (f" [{fmt}]" if fmt and t != "s" else "") + (f" ={f}" if f else ""))
    for name in sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)):
        ch = ET.fromstring(z.read(name))
        plot = ch.find("c:chart/c:plotArea", NS)
        kind = [e.tag.split("}")[1] for e in plot if e.tag.endswith("Chart")]
        grouping = plot.find(".//c:grouping", NS)
        title = "".join(t.text or "" for t in ch.find("c:chart/c:title", NS).iter("{%s}t" % NS["a"]))
        print(f"== chart {name.split('/')[-1]} {kind[0]}" + (f" {grouping.get('val')}" if grouping is not None else "") +
              f" '{title}'")
        for s in plot.iter("{%s}ser" % NS["c"]):
            print("  series", s.findtext("c:tx/c:v", "", NS) or s.findtext("c:tx/c:strRef/c:f", "", NS),
                  s.findtext("c:cat//c:f", "", NS), s.findtext("c:val//c:f", "", NS))


if __name__ == "__main__":
    main(sys.argv[1])
