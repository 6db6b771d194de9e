package events_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/notify"
)

// TestTemplateDeliveryFigures holds the alarms and the dashboard to what
// the functions write (package emf): the namespace the template gives the
// functions is the one they read, every channel has its failure-rate
// alarm on emf's metric and dimension names, the dashboard body is JSON
// once Fn::Sub has filled it in and names only the template's resources
// and parameters, and the output the API's 503 points at exists.
func TestTemplateDeliveryFigures(t *testing.T) {
	tpl := readTemplate(t)
	ns := tpl.get("Globals", "Function", "Environment", "Variables", "HERALD_METRICS_NAMESPACE").val()
	if ns != "!Sub Herald/${AWS::StackName}" {
		t.Fatalf("Globals HERALD_METRICS_NAMESPACE = %q, want the stack's own namespace", ns)
	}
	alarms := resources(tpl, "AWS::CloudWatch::Alarm")
	for _, ch := range notify.Channels {
		var found bool
		for _, name := range sortedKeys(alarms) {
			if !strings.HasSuffix(name, "FailureRateAlarm") {
				continue
			}
			txt := alarms[name].text()
			if !strings.Contains(txt, "Value: "+string(ch)+"\n") {
				continue
			}
			found = true
			for _, want := range []string{"Namespace: " + ns + "\n", "MetricName: " + emf.MetricDeliveries + "\n", "Name: " + emf.DimStage + "\n",
				"Name: " + emf.DimChannel + "\n", "Name: " + emf.DimOutcome + "\n", "TreatMissingData: notBreaching\n", "FILL(", ">= 20"} {
				if !strings.Contains(txt, want) {
					t.Errorf("%s: no %q", name, strings.TrimSpace(want))
				}
			}
		}
		if !found {
			t.Errorf("channel %s has no FailureRateAlarm", ch)
		}
	}

	dash := resources(tpl, "AWS::CloudWatch::Dashboard")["DeliveryDashboard"]
	if dash == nil {
		t.Fatal("no DeliveryDashboard")
	}
	var body strings.Builder
	for _, l := range dash.get("Properties", "DashboardBody", "Fn::Sub").children {
		body.WriteString(l.value + "\n")
	}
	known := map[string]bool{"AWS::StackName": true, "AWS::Region": true}
	for _, r := range tpl.get("Resources").children {
		known[r.key] = true
	}
	for _, p := range tpl.get("Parameters").children {
		known[p.key] = true
	}
	sub := regexp.MustCompile(`\$\{([^}!]+)\}`)
	filled := sub.ReplaceAllStringFunc(body.String(), func(m string) string {
		name := m[2 : len(m)-1]
		if ref, _, _ := strings.Cut(name, "."); !known[ref] {
			t.Errorf("dashboard names ${%s}, which is no resource or parameter", name)
		}
		if name == "DeliveryFailureAlarmPercent" {
			return "10"
		}
		return "x"
	})
	filled = strings.ReplaceAll(filled, "${!", "${")
	var doc struct {
		Widgets []struct {
			Type                string
			X, Y, Width, Height int
			Properties          map[string]any
		}
	}
	if err := json.Unmarshal([]byte(filled), &doc); err != nil {
		t.Fatalf("dashboard body is not JSON once filled in: %v\n%s", err, filled)
	}
	if len(doc.Widgets) < 8 {
		t.Errorf("%d widgets, want the sends, failure rate, latency, queue age, reasons, reports, queues and functions", len(doc.Widgets))
	}
	for _, m := range []string{emf.MetricDeliveries, emf.MetricCallbacks, emf.MetricProviderLatency, emf.MetricQueueAge} {
		if !strings.Contains(body.String(), `MetricName=\"`+m+`\"`) {
			t.Errorf("dashboard shows no %s", m)
		}
	}
	for _, name := range sortedKeys(alarms) {
		if strings.HasSuffix(name, "FailureRateAlarm") && !strings.Contains(body.String(), "${"+name+".Arn}") {
			t.Errorf("dashboard's alarm widget lacks %s", name)
		}
	}
	if tpl.get("Outputs", "DeliveryDashboardUrl") == nil {
		t.Error("no DeliveryDashboardUrl output (GET /v1/metrics on AWS points at it)")
	}
}
