package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one Server's Prometheus collectors, on a registry of its own
// so several servers can live in one process (tests, replicas).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	revoked  *prometheus.CounterVec
	streams  prometheus.Gauge
	events   *prometheus.CounterVec
	// connsRefused counts connections closed unanswered at the guard's
	// maximum (GuardListener); purged counts what the sweeper deleted.
	connsRefused prometheus.Counter
	purged       *prometheus.CounterVec
	// closures counts receipts (POST /v1/closures) by whether the device
	// erased; receiptDelay is how long after its revocation each came.
	closures     *prometheus.CounterVec
	receiptDelay prometheus.Histogram
	// idleSweep is how long each inactivity sweep took (SweepInactive).
	idleSweep prometheus.Histogram
	// dpopRefusals counts requests refused over their DPoP proof, by
	// reason (dpop.go).
	dpopRefusals *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sessiond_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_logins_total", Help: "Sign-in attempts by result.",
		}, []string{"result"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_sessions_revoked_total", Help: "Sessions ended, by reason.",
		}, []string{"reason"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessiond_event_streams", Help: "Open event streams.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_events_sent_total", Help: "Events written to streams, by name.",
		}, []string{"event"}),
		connsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessiond_connections_refused_total", Help: "Connections closed unanswered because the connection limit was reached.",
		}),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_retention_deleted_total", Help: "Records deleted by the retention sweeper, by kind.",
		}, []string{"kind"}),
		closures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_closures_confirmed_total", Help: "Receipts of ended sessions' devices (POST /v1/closures), by whether the device erased its data.",
		}, []string{"erased"}),
		receiptDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sessiond_closure_receipt_delay_seconds", Help: "Time from a session's revocation to its device's receipt.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 5, 30, 300, 3600, 86400, 7 * 86400},
		}),
		idleSweep: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sessiond_idle_sweep_duration_seconds", Help: "Time each sweep for sessions unused past their inactivity rule took, ending them included.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}),
		dpopRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessiond_dpop_refusals_total",
			Help: "Requests refused over their DPoP proof, by reason: missing or other_key (a bound token without its key), unbound_sign_in (--require-bound), replays_full, or what was wrong with the proof (malformed, typ, jwk, signature, htm, htu, iat, ath, replay).",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.logins, m.revoked, m.streams, m.events, m.connsRefused, m.purged,
		m.closures, m.receiptDelay, m.idleSweep, m.dpopRefusals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if route != "GET /v1/events" {
		m.latency.WithLabelValues(route).Observe(d.Seconds())
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
