package spreadsheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// zipOf zips parts, in name order.
func zipOf(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(mapKeys(parts)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(parts[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

const (
	testWorkbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	testWorkbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>`
)

// workbookZip zips a workbook of parts, adding a workbook of one sheet
// (xl/worksheets/sheet1.xml) when parts has none.
func workbookZip(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	all := map[string]string{
		"[Content_Types].xml":        `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml":            testWorkbook,
		"xl/_rels/workbook.xml.rels": testWorkbookRels,
	}
	for k, v := range parts {
		all[k] = v
	}
	return zipOf(t, all)
}

func sheetXML(sheetData string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData>` +
		sheetData + `</sheetData></worksheet>`
}

func sheetZip(t testing.TB, sheetData string) []byte {
	t.Helper()
	return workbookZip(t, map[string]string{"xl/worksheets/sheet1.xml": sheetXML(sheetData)})
}

const (
	testSharedStrings = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="7" uniqueCount="7">
<si><t>phone</t></si>
<si><t xml:space="preserve"> name </t></si>
<si><r><rPr><b/></rPr><t xml:space="preserve">Ana </t></r><r><t>María</t></r></si>
<si><t>line_x000D_break</t><rPh sb="0" eb="1"><t>フリガナ</t></rPh></si>
<si><t>&lt;b&gt; &amp; "q"</t></si>
<si><t>_x005F_x0041_ stays</t></si>
<si><t>_x001B_[31mred_x0000__x0007_ _x0009_tab</t></si>
</sst>`
	// Styles: 0 general, 1 m/d/yyyy, 2 m/d/yyyy h:mm, 3 a custom date,
	// 4 a custom number with a quoted d, 5 h:mm, 6 a custom date and time.
	testStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/><numFmt numFmtId="165" formatCode="0.0&quot; days&quot;"/><numFmt numFmtId="166" formatCode="[$-409]yyyy\-mm\-dd\ hh:mm;[Red]@"/></numFmts>
<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>
<cellXfs count="7"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="20"/><xf numFmtId="166"/></cellXfs>
</styleSheet>`
)

// randomText returns n letters that do not compress much, so that a test
// of another bound is not stopped by the compression ratio's.
func randomText(n int) string {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return string(b)
}

func TestReadXLSX(t *testing.T) {
	typed := `
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>note</t></is></c><c r="D1" s="1"/></row>
<row r="2"><c r="A2"><v>34600000000</v></c><c r="B2" t="s"><v>2</v></c><c r="C2" t="str"><f>UPPER("ok")</f><v>OK</v></c></row>
<row r="3"><c r="A3"><v>3.46E+10</v></c><c r="B3" t="b"><v>1</v></c><c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="D3" t="b"><v>0</v></c></row>
<row r="5"><c t="inlineStr"><is><r><t>rich</t></r><r><t xml:space="preserve"> inline</t></r></is></c><c><v>0.1</v></c><c><v>-12.5</v></c></row>
<row r="7"><c r="C7"><v>0.30000000000000004</v></c></row>
<row r="8"><c r="A8" t="s"><v>3</v></c><c r="B8" t="s"><v>4</v></c><c r="C8" t="s"><v>5</v></c></row>
<row r="9"><c r="A9" s="1"><v>45356</v></c><c r="B9" s="2"><v>45356.75</v></c><c r="C9" s="3"><v>45356</v></c><c r="D9" s="4"><v>3</v></c></row>
<row r="10"><c r="A10" s="1"/><c r="B10" t="s" s="2"><v></v></c></row>
<row r="11"><c r="A11" s="5"><v>0.5</v></c><c r="B11" s="6"><v>45356.604166666664</v></c><c r="C11" s="1"><v>60</v></c><c r="D11" s="1"><v>61</v></c></row>
<row r="12"><c r="A12" s="1"><v>59</v></c><c r="B12" s="1"><v>1</v></c><c r="C12" t="d"><v>2024-03-05T00:00:00Z</v></c><c r="D12"><v>1.5E-3</v></c></row>
<row r="13"><c r="A13"><v>12345678901234567890</v></c><c r="B13"><v>-0</v></c><c r="IV13"/><c r="ZZ13" s="1"/></row>
<row r="14"><c r="A14" t="s"><v>6</v></c><c r="B14" t="inlineStr"><is><t>_x0000_x_x001F_y_x007F_</t></is></c><c r="C14" t="str"><v>_x000B_</v></c></row>`

	tests := []struct {
		name       string
		data       []byte
		wantHeader []string
		want       []row
	}{
		{
			name: "cell types, sparse rows and dates",
			data: workbookZip(t, map[string]string{
				"xl/worksheets/sheet1.xml": sheetXML(typed),
				"xl/sharedStrings.xml":     testSharedStrings,
				"xl/styles.xml":            testStyles,
			}),
			wantHeader: []string{"phone", "name", "note"},
			want: []row{
				{2, []string{"34600000000", "Ana María", "OK"}},
				{3, []string{"34600000000", "TRUE", "#DIV/0!", "FALSE"}},
				{5, []string{"rich inline", "0.1", "-12.5"}},
				{7, []string{"", "", "0.3"}},
				{8, []string{"line\rbreak", `<b> & "q"`, "_x0041_ stays"}},
				{9, []string{"2024-03-05", "2024-03-05 18:00", "2024-03-05", "3"}},
				{11, []string{"12:00", "2024-03-05 14:30", "1900-02-29", "1900-03-01"}},
				{12, []string{"1900-02-28", "1900-01-01", "2024-03-05", "0.0015"}},
				{13, []string{"12345678901234600000", "0"}},
				// Control characters from escapes are removed.
				{14, []string{"[31mred \ttab", "xy"}},
			},
		},
		{
			name: "first sheet in workbook order is not sheet1.xml",
			data: workbookZip(t, map[string]string{
				"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:rel="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets>
<sheet name="Hidden" sheetId="3" state="hidden" rel:id="rId3"/><sheet name="Data" sheetId="2" rel:id="rId2"/><sheet name="Old" sheetId="1" rel:id="rId1"/></sheets></workbook>`,
				"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/Data.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet3.xml"/>
</Relationships>`,
				"xl/worksheets/sheet1.xml": sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>old</t></is></c></row>`),
				"xl/worksheets/data.xml":   sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>`),
				"xl/worksheets/sheet3.xml": sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>hidden</t></is></c></row>`),
			}),
			wantHeader: []string{"phone"},
			want:       []row{{2, []string{"1"}}},
		},
		{
			name: "1904 date system",
			data: workbookZip(t, map[string]string{
				"xl/workbook.xml": strings.Replace(testWorkbook, "<sheets>", `<workbookPr date1904="1"/><sheets>`, 1),
				"xl/styles.xml":   testStyles,
				"xl/worksheets/sheet1.xml": sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>when</t></is></c></row>` +
					`<row r="2"><c r="A2" s="1"><v>0</v></c><c r="B2" s="1"><v>43890</v></c></row>`),
			}),
			wantHeader: []string{"when"},
			want:       []row{{2, []string{"1904-01-01", "2024-03-01"}}},
		},
		{
			name: "no relationships: sheet1.xml; prefixed elements; header not in row 1",
			data: zipOf(t, map[string]string{
				"xl/workbook.xml": testWorkbook,
				"xl/worksheets/sheet1.xml": `<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
					`<x:row r="3"><x:c r="B3" t="inlineStr"><x:is><x:t>phone</x:t></x:is></x:c><x:c r="D3" t="inlineStr"><x:is><x:t>name</x:t></x:is></x:c></x:row>` +
					`<x:row r="4"><x:c r="B4"><x:v>34600000000</x:v></x:c></x:row></x:sheetData></x:worksheet>`,
			}),
			wantHeader: []string{"", "phone", "", "name"},
			want:       []row{{4, []string{"", "34600000000"}}},
		},
		{
			name:       "header only",
			data:       sheetZip(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"/>`),
			wantHeader: []string{"phone"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, rows, err := readAll(tt.data, Limits{})
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if diff := cmp.Diff(tt.wantHeader, header); diff != "" {
				t.Errorf("Header() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadXLSXErrors(t *testing.T) {
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`
	manyParts := map[string]string{"xl/workbook.xml": testWorkbook}
	for i := range maxParts {
		manyParts[fmt.Sprintf("junk/%d", i)] = ""
	}
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantRow int
		want    string
		column  string
	}{
		{
			name:    "a value at column 100000",
			data:    sheetZip(t, header+`<row r="2"><c r="A2"><v>1</v></c><c r="`+ColumnLetter(99_999)+`2"><v>1</v></c></row>`),
			wantRow: 2,
			want:    "the file has 100000 columns; at most 256 are allowed",
			column:  ColumnLetter(99_999),
		},
		{
			name:    "more columns than allowed in the header",
			data:    sheetZip(t, `<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>1</v></c><c r="C1"><v>1</v></c></row>`),
			lim:     Limits{MaxColumns: 2},
			wantRow: 1,
			want:    "the file has 3 columns; at most 2 are allowed",
			column:  "C",
		},
		{
			name:    "too many rows",
			data:    sheetZip(t, header+`<row r="2"><c r="A2"><v>1</v></c></row><row r="3"/><row r="4"><c r="A4"><v>2</v></c></row><row r="5"><c r="A5"><v>3</v></c></row>`),
			lim:     Limits{MaxRows: 2},
			wantRow: 5,
			want:    "the file has more than 2 rows; split it",
		},
		{
			name:    "a cell too long",
			data:    sheetZip(t, header+`<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>abcdefghijk</t></is></c></row>`),
			lim:     Limits{MaxCellBytes: 10},
			wantRow: 2,
			want:    `row 2, column "name" has a cell of 11 bytes; at most 10 are allowed`,
			column:  "name",
		},
		{
			name: "a shared string too long",
			data: workbookZip(t, map[string]string{
				"xl/sharedStrings.xml":     `<sst><si><t>phone</t></si><si><t>` + strings.Repeat("x", 100) + `</t></si></sst>`,
				"xl/worksheets/sheet1.xml": sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="C2" t="s"><v>1</v></c></row>`),
			}),
			lim:     Limits{MaxCellBytes: 10},
			wantRow: 2,
			want:    "row 2, column C has a cell of 11 bytes",
			column:  "C",
		},
		{
			name:    "a giant cell",
			data:    sheetZip(t, header+`<row r="2"><c r="A2" t="inlineStr"><is><t>`+randomText(2<<20)+`</t></is></c></row>`),
			wantRow: 0,
			want:    "the first sheet of the workbook has a cell or element longer than 1 MiB",
		},
		{
			name:    "a missing shared string",
			data:    sheetZip(t, header+`<row r="2"><c r="B2" t="s"><v>7</v></c></row>`),
			wantRow: 2,
			want:    "the workbook is damaged (cell B2 refers to text that is missing)",
			column:  "B",
		},
		{
			name:    "malformed sheet",
			data:    sheetZip(t, header+`<row r="2"><c r="B2"><v>1 & 2</v></c></row>`),
			wantRow: 0,
			want:    "the workbook is damaged (the first sheet cannot be read)",
		},
		{
			name:    "rows out of order",
			data:    sheetZip(t, header+`<row r="5"><c r="A5"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>`),
			wantRow: 3,
			want:    "the workbook is damaged (row 3 comes after row 5)",
		},
		{
			name:    "no sheet",
			data:    zipOf(t, map[string]string{"xl/workbook.xml": testWorkbook}),
			wantRow: 0,
			want:    "the workbook has no worksheet",
		},
		{
			name:    "too many parts",
			data:    zipOf(t, manyParts),
			wantRow: 0,
			want:    "this zip file has 10,001 parts",
		},
		{
			name:    "empty sheet",
			data:    sheetZip(t, `<row r="1"><c r="A1" s="1"/></row>`),
			wantRow: 0,
			want:    "the file is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(tt.data, tt.lim)
			e := wantError(t, err, tt.wantRow, tt.want)
			if e.Column != tt.column {
				t.Errorf("Column = %q, want %q", e.Column, tt.column)
			}
		})
	}
}

// TestPartReaderBounds checks the guards every part is read through: a zip
// bomb (1 GiB of sheet in 1 MiB of zip) and a giant token fail with a
// message instead of exhausting memory.
func TestPartReaderBounds(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		limit int64
		run   int
		want  string
	}{
		{"within bounds", strings.Repeat("<row/>", 100), 600, 10, ""},
		{"unpacks too large", strings.Repeat("<row/>", 100), 599, 10, "the sheet of the workbook is larger than 599 bytes unpacked, more than a spreadsheet within the limits needs; split the file"},
		{"a token too long", "<t>" + strings.Repeat("x", 11) + "</t>", 1000, 10, "the sheet of the workbook has a cell or element longer than 10 bytes"},
		{"a token too long across reads", "<t>" + strings.Repeat("x", 50) + "</t>", 1000, 40, "longer than 40 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := &partReader{r: iotest.OneByteReader(strings.NewReader(tt.data)), left: tt.limit, limit: tt.limit, maxRun: tt.run, what: "the sheet"}
			got, err := io.ReadAll(pr)
			if tt.want == "" {
				if err != nil || string(got) != tt.data {
					t.Fatalf("ReadAll = %q, %v, want the data and no error", got, err)
				}
				return
			}
			wantError(t, err, 0, tt.want)
		})
	}
}

func TestReadXLSXWrittenByExcelize(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(err)
	custom := "dd/mm/yyyy"
	customStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	must(err)
	const s = "Sheet1"
	must(f.SetSheetRow(s, "A1", &[]any{"phone", " name ", "when", "amount", "vip", "note"}))
	must(f.SetCellValue(s, "A2", int64(34600000000)))
	must(f.SetCellValue(s, "B2", "  Ana  "))
	must(f.SetCellValue(s, "C2", time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)))
	must(f.SetCellValue(s, "D2", 12.5))
	must(f.SetCellValue(s, "E2", true))
	must(f.SetCellRichText(s, "F2", []excelize.RichTextRun{{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "and plain"}}))
	must(f.SetCellValue(s, "A4", 3.46e10))
	must(f.SetCellValue(s, "C4", 45356))
	must(f.SetCellStyle(s, "C4", "C4", dateStyle))
	must(f.SetCellValue(s, "E4", false))
	must(f.SetCellValue(s, "H4", "beyond the header"))
	must(f.SetCellValue(s, "A5", "+34 600 000 000"))
	must(f.SetCellValue(s, "C5", 45356))
	must(f.SetCellStyle(s, "C5", "C5", customStyle))
	must(f.SetCellValue(s, "F5", "ñ 😀 <&>"))
	// A second sheet, which is not read.
	_, err = f.NewSheet("Other")
	must(err)
	must(f.SetCellValue("Other", "A1", "not me"))
	buf, err := f.WriteToBuffer()
	must(err)

	header, rows, err := readAll(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if diff := cmp.Diff([]string{"phone", "name", "when", "amount", "vip", "note"}, header); diff != "" {
		t.Errorf("Header() (-want +got):\n%s", diff)
	}
	want := []row{
		{2, []string{"34600000000", "Ana", "2024-03-05 14:30", "12.5", "TRUE", "bold and plain"}},
		{4, []string{"34600000000", "", "2024-03-05", "", "FALSE", "", "", "beyond the header"}},
		{5, []string{"+34 600 000 000", "", "2024-03-05", "", "", "ñ 😀 <&>"}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestReadXLSXStreamedByExcelize(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"phone", "name", "double"},
		{34600000000, "Ana", excelize.Cell{Formula: "B2*2", Value: 42}},
		{nil, nil, nil},
		{"+34600000001", "Luis", excelize.Cell{Formula: `"x"&"y"`, Value: "xy"}},
	}
	for i, r := range rows {
		if err := sw.SetRow(fmt.Sprintf("A%d", i+1), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := readAll(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := []row{
		{2, []string{"34600000000", "Ana", "42"}},
		{4, []string{"+34600000001", "Luis", "xy"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestClassifyFormat(t *testing.T) {
	tests := map[string]numKind{
		"General":                 kindNumber,
		"0.00":                    kindNumber,
		"#,##0.00 [$€-1]":         kindNumber,
		`0.0" days"`:              kindNumber,
		`0\d`:                     kindNumber,
		"[Red]0.00;[Blue]-0.00":   kindNumber,
		"0.00E+00":                kindNumber,
		"@":                       kindNumber,
		"dd/mm/yyyy":              kindDate,
		"mmm-yy":                  kindDate,
		"mmmm":                    kindDate,
		"[$-409]d-mmm-yyyy;@":     kindDate,
		"yyyy-mm-dd hh:mm":        kindDateTime,
		"m/d/yy h:mm AM/PM":       kindDateTime,
		"h:mm AM/PM":              kindTime,
		"mm:ss":                   kindTime,
		"[h]:mm":                  kindTime,
		"[mm]:ss.0":               kindTime,
		`hh"h"mm`:                 kindTime,
		`_(* #,##0_);_(* (#,##0)`: kindNumber,
	}
	for code, want := range tests {
		if got := classifyFormat(code); got != want {
			t.Errorf("classifyFormat(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v        string
		kind     numKind
		date1904 bool
		want     string
	}{
		{"34600000000", kindNumber, false, "34600000000"},
		{"3.46E+10", kindNumber, false, "34600000000"},
		{"34600000000.0", kindNumber, false, "34600000000"},
		{"-12.5", kindNumber, false, "-12.5"},
		{"0.1", kindNumber, false, "0.1"},
		{"1E-3", kindNumber, false, "0.001"},
		{"1E+25", kindNumber, false, "1e+25"},
		{"0.30000000000000004", kindNumber, false, "0.3"},
		{"not a number", kindNumber, false, "not a number"},
		{"45356", kindDate, false, "2024-03-05"},
		{"45356.999999", kindDate, false, "2024-03-05"},
		{"45356.999999", kindDateTime, false, "2024-03-05 23:59"},
		{"45356.99999999999", kindDateTime, false, "2024-03-06 00:00"},
		{"45356.5", kindDateTime, false, "2024-03-05 12:00"},
		{"45356.5", kindDate, false, "2024-03-05"},
		{"0.75", kindTime, false, "18:00"},
		{"1.25", kindTime, false, "1900-01-01 06:00"},
		{"60", kindDate, false, "1900-02-29"},
		{"0", kindDate, true, "1904-01-01"},
		{"-1", kindDate, false, "-1"},
		{"3000000", kindDate, false, "3000000"},
	}
	for _, tt := range tests {
		if got := formatNumber([]byte(tt.v), tt.kind, tt.date1904); got != tt.want {
			t.Errorf("formatNumber(%q, %d, %t) = %q, want %q", tt.v, tt.kind, tt.date1904, got, tt.want)
		}
	}
}

func TestDecodeEscapes(t *testing.T) {
	tests := map[string]string{
		"plain":              "plain",
		"a_x000D_b":          "a\rb",
		"_x005F_x000D_":      "_x000D_",
		"_xD83D__xDE00_":     "😀",
		"_x00":               "_x00",
		"_xZZZZ_":            "_xZZZZ_",
		"snake_xcase_x0041_": "snake_xcaseA",
	}
	for in, want := range tests {
		if got := string(decodeEscapes([]byte(in))); got != want {
			t.Errorf("decodeEscapes(%q) = %q, want %q", in, got, want)
		}
	}
}
