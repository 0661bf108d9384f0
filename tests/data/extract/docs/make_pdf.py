#!/usr/bin/env python3
"""Writes report.pdf: a one-page PDF whose text holds a few indicators (issue 5 tests).

Run from this directory: python3 make_pdf.py. Plain PDF 1.4 with a Helvetica text stream, so
pdftotext (poppler-utils) reads it back.
"""
lines = ["Incident report", "C2 server: 198.51.99.7 and beacon[.]fastly-cdn[.]org",
         "Payload SHA-256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]
stream = "BT /F1 11 Tf 50 750 Td 14 TL\n" + "".join(
    "(%s) '\n" % l.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for l in lines) + "ET\n"
objs = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
    "/Resources << /Font << /F1 5 0 R >> >> >>",
    "<< /Length %d >>\nstream\n%sendstream" % (len(stream), stream),
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]
out = "%PDF-1.4\n"
offsets = []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += "%d 0 obj\n%s\nendobj\n" % (i, o)
xref = len(out)
out += "xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += "".join("%010d 00000 n \n" % o for o in offsets)
out += "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open("report.pdf", "w", encoding="latin-1").write(out)
