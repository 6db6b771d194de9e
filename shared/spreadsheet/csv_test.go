package spreadsheet

import (
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name       string
		data       string
		wantHeader []string
		want       []row
	}{
		{
			name:       "comma, no byte order mark",
			data:       "phone,name\n+34600000000,Ana\n+34600000001,Luis\n",
			wantHeader: []string{"phone", "name"},
			want:       []row{{2, []string{"+34600000000", "Ana"}}, {3, []string{"+34600000001", "Luis"}}},
		},
		{
			name:       "byte order mark and CRLF",
			data:       "\xEF\xBB\xBFphone,name\r\n+34600000000,Ana\r\n",
			wantHeader: []string{"phone", "name"},
			want:       []row{{2, []string{"+34600000000", "Ana"}}},
		},
		{
			name:       "semicolon, with decimal commas",
			data:       "phone;name;offer\n+34600000000;Ana;10,5\n",
			wantHeader: []string{"phone", "name", "offer"},
			want:       []row{{2, []string{"+34600000000", "Ana", "10,5"}}},
		},
		{
			name:       "semicolon counted outside quotes only",
			data:       "\"a,b,c\";d;e\n1;2;3\n",
			wantHeader: []string{"a,b,c", "d", "e"},
			want:       []row{{2, []string{"1", "2", "3"}}},
		},
		{
			name:       "tab, keeping empty cells",
			data:       "phone\tname\toffer\n+34600000000\t\t10\n",
			wantHeader: []string{"phone", "name", "offer"},
			want:       []row{{2, []string{"+34600000000", "", "10"}}},
		},
		{
			name:       "control characters are removed, tab and line breaks kept",
			data:       "pho\x1bne,name\n+34600\x01000000,\"\x1b[31mAna\x7f\tM.\r\nGil\x0b\"\n\x1b,\x08\n" + strings.Repeat("+34600000001,Luis\n", 50),
			wantHeader: []string{"phone", "name"},
			want:       append([]row{{2, []string{"+34600000000", "[31mAna\tM.\nGil"}}}, repeatRow(4, 50, []string{"+34600000001", "Luis"})...),
		},
		{
			name:       "C1 control characters are removed too, as the API refuses them",
			data:       "phone,name\n+34600000000,Ana\u009b31m \u0085Gil\u00e9\n" + strings.Repeat("+34600000001,Luis\n", 50),
			wantHeader: []string{"phone", "name"},
			want:       append([]row{{2, []string{"+34600000000", "Ana31m Gil\u00e9"}}}, repeatRow(3, 50, []string{"+34600000001", "Luis"})...),
		},
		{
			name:       "a tie goes to the comma",
			data:       "a,b;c\n1,2;3\n",
			wantHeader: []string{"a", "b;c"},
			want:       []row{{2, []string{"1", "2;3"}}},
		},
		{
			name:       "Excel's sep= line",
			data:       "sep=;\r\nphone;name\r\n1;Ana, María\r\n",
			wantHeader: []string{"phone", "name"},
			want:       []row{{2, []string{"1", "Ana, María"}}},
		},
		{
			name: "quoted cells with delimiters, quotes and newlines",
			data: "phone,note,name\n" +
				"1,\"a, \"\"quoted\"\" \nsecond line\r\nthird\",Ana\n" +
				"2,\"\",Luis\n",
			wantHeader: []string{"phone", "note", "name"},
			want: []row{
				{2, []string{"1", "a, \"quoted\" \nsecond line\nthird", "Ana"}},
				// Line 5 of the file, row 3 in Excel.
				{3, []string{"2", "", "Luis"}},
			},
		},
		{
			name:       "blank rows are skipped and keep their numbers",
			data:       "phone,name\n\n+1,a\n   \n,,\r\n , ;\n+2,b\n",
			wantHeader: []string{"phone", "name"},
			want:       []row{{3, []string{"+1", "a"}}, {6, []string{"", ";"}}, {7, []string{"+2", "b"}}},
		},
		{
			name:       "blank rows before the header",
			data:       "\n,\nphone\n1\n",
			wantHeader: []string{"phone"},
			want:       []row{{4, []string{"1"}}},
		},
		{
			name:       "cells are trimmed",
			data:       " phone , name \n  +34 600 000 000 ,\t Ana María \u00a0\n",
			wantHeader: []string{"phone", "name"},
			want:       []row{{2, []string{"+34 600 000 000", "Ana María"}}},
		},
		{
			name:       "a space before a quote",
			data:       "a,b\n1, \"x,y\"\n",
			wantHeader: []string{"a", "b"},
			want:       []row{{2, []string{"1", "x,y"}}},
		},
		{
			name:       "old Mac line ends",
			data:       "phone,name\r+1,a\r+2,\"b\rc\"\r",
			wantHeader: []string{"phone", "name"},
			want:       []row{{2, []string{"+1", "a"}}, {3, []string{"+2", "b\nc"}}},
		},
		{
			name:       "header only",
			data:       "phone,name\n",
			wantHeader: []string{"phone", "name"},
		},
		{
			name:       "header only, no newline",
			data:       "phone",
			wantHeader: []string{"phone"},
		},
		{
			name:       "trailing empty header cells are dropped; longer and shorter rows as they are",
			data:       "phone,name,,\n1,a,b,c\n2\n3,,\n4,,x\n",
			wantHeader: []string{"phone", "name"},
			want: []row{
				{2, []string{"1", "a", "b", "c"}},
				{3, []string{"2"}},
				{4, []string{"3"}},
				{5, []string{"4", "", "x"}},
			},
		},
		{
			name:       "unicode",
			data:       "nombre,emoji\nMuñoz,😀\n",
			wantHeader: []string{"nombre", "emoji"},
			want:       []row{{2, []string{"Muñoz", "😀"}}},
		},
		{
			name:       "an empty header cell in the middle",
			data:       "phone,,name\n1,2,3\n",
			wantHeader: []string{"phone", "", "name"},
			want:       []row{{2, []string{"1", "2", "3"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, rows, err := readAll([]byte(tt.data), Limits{})
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

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		lim     Limits
		wantRow int
		want    string
		column  string
	}{
		{
			name:    "a bare quote",
			data:    "phone,name\n1,a\n2,O\"Brien\n",
			wantRow: 3,
			want:    "row 3 has a quote (\") inside a cell that does not start with one",
		},
		{
			name:    "a quote never closed",
			data:    "phone,name\n1,\"a\n2,b\n",
			wantRow: 2,
			want:    "row 2 has a quoted cell that is never closed",
		},
		{
			name:    "text after a closing quote, after a multi-line cell",
			data:    "phone,name\n1,\"a\nb\"\n2,\"c\"d\n",
			wantRow: 3,
			want:    "row 3 has a quoted cell",
		},
		{
			name:    "Windows-1252",
			data:    "phone,name\n1,Ana\n\n2,Mu\xf1oz\n",
			wantRow: 4,
			want:    "row 4 is not UTF-8 text; save the file as CSV UTF-8",
		},
		{
			name:    "Windows-1252 in the header",
			data:    "tel\xe9fono\n1\n",
			wantRow: 1,
			want:    "row 1 is not UTF-8 text",
		},
		{
			name:    "a NUL byte past the start",
			data:    "phone\n" + strings.Repeat("+34600000000\n", 1000) + "1\x002\n",
			wantRow: 1002,
			want:    "row 1002 holds binary content",
		},
		{
			name:    "more columns than allowed",
			data:    "a,b\n1,2,3,4\n",
			lim:     Limits{MaxColumns: 3},
			wantRow: 2,
			want:    "the file has 4 columns; at most 3 are allowed",
			column:  "D",
		},
		{
			name:    "too many rows",
			data:    "phone\n1\n\n2\n3\n",
			lim:     Limits{MaxRows: 2},
			wantRow: 5,
			want:    "the file has more than 2 rows; split it",
		},
		{
			name:    "a cell too long",
			data:    "phone,name\n1,abcdef\n",
			lim:     Limits{MaxCellBytes: 5},
			wantRow: 2,
			want:    `row 2, column "name" has a cell of 6 bytes; at most 5 are allowed`,
			column:  "name",
		},
		{
			name:    "a header cell too long",
			data:    "phone,abcdef\n",
			lim:     Limits{MaxCellBytes: 5},
			wantRow: 1,
			want:    "row 1, column B has a cell of 6 bytes",
			column:  "B",
		},
		{
			name:    "a line longer than 1 MiB",
			data:    "phone\n1\n\"a\nb\"\n" + strings.Repeat("x", maxLine+1) + "\n",
			wantRow: 4,
			want:    "row 4 has a line longer than 1 MiB",
		},
		{
			name:    "a quote left open over many lines",
			data:    "phone\n1\n\"" + strings.Repeat(strings.Repeat("x", 99)+"\n", 30_000),
			wantRow: 3,
			want:    "row 3 is longer than 2,097,920 bytes; check for a quote (\") that is opened but never closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll([]byte(tt.data), tt.lim)
			e := wantError(t, err, tt.wantRow, tt.want)
			if e.Column != tt.column {
				t.Errorf("Column = %q, want %q", e.Column, tt.column)
			}
		})
	}
}

// TestReadCSVHundredThousandColumns checks that a header of 100,000 columns
// is refused quickly and without a lot of memory, and so is a row of a
// million empty cells (encoding/csv would hold 40 MB of them).
func TestReadCSVHundredThousandColumns(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		lim     Limits
		wantRow int
		want    string
	}{
		{"a header of 100,000 columns", strings.Repeat("col,", 99_999) + "col\n1\n", Limits{}, 1, "row 1 has more than 16,384 columns"},
		{"a header of 300 columns", strings.Repeat("col,", 299) + "col\n1\n", Limits{}, 1, "the file has 300 columns; at most 256 are allowed"},
		{"a row of a million empty cells", "phone,name\n1,a\n" + strings.Repeat(",", 1<<20-1) + "\n", Limits{}, 3, "row 3 has more than 16,384 columns"},
		{"a row of 20,000 empty cells with 20,000 columns allowed", "phone,name\n" + strings.Repeat(",", 20_001) + "\n", Limits{MaxColumns: 20_000}, 2, "row 2 has more than 20,000 columns"},
		{"delimiters in quotes are not cells", "phone,name\n1,\"" + strings.Repeat(",", 20_000) + "\"\n", Limits{}, 2, `row 2, column "name" has a cell of 20,000 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := readAll(data, tt.lim)
			runtime.ReadMemStats(&after)
			wantError(t, err, tt.wantRow, tt.want)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB reading %d KiB", allocated>>10, len(data)>>10)
			if allocated > 32<<20 {
				t.Errorf("allocated %d MiB, want under 32 MiB", allocated>>20)
			}
		})
	}
}

// repeatRow returns n rows of cells numbered from first.
func repeatRow(first, n int, cells []string) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{first + i, cells}
	}
	return rows
}
