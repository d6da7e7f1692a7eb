namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>The Prometheus text of <c>/metrics</c>.</summary>
public sealed class RelayMetricsTests
{
    [Fact]
    public void Text_HasViewersPerStreamAndLanguage_CountersAndRefusals()
    {
        var metrics = new RelayMetrics();
        metrics.AddViewer("demo", "en", 1);
        metrics.AddViewer("demo", "en", 1);
        metrics.AddViewer("demo", "es", 1);
        metrics.AddViewer("demo", "es", -1);
        metrics.CountIn();
        metrics.CountIn();
        metrics.CountForwarded();
        metrics.CountRejected();
        metrics.SetCoalesced(5);
        metrics.CountRefused("relay_full");
        metrics.CountRefused("origin");
        metrics.CountRefused("origin");
        metrics.SetNatsConnected(true);

        var lines = metrics.ToPrometheus(slowViewersDropped: 3).Split('\n');

        Assert.Contains("relay_viewers{stream=\"demo\",language=\"en\"} 2", lines);
        Assert.Contains("relay_viewers{stream=\"demo\",language=\"es\"} 0", lines);
        Assert.Contains("relay_messages_in_total 2", lines);
        Assert.Contains("relay_messages_out_total 1", lines);
        Assert.Contains("relay_messages_coalesced_total 5", lines);
        Assert.Contains("relay_messages_rejected_total 1", lines);
        Assert.Contains("relay_slow_viewers_dropped_total 3", lines);
        Assert.Contains("relay_refused_total{reason=\"origin\"} 2", lines);
        Assert.Contains("relay_refused_total{reason=\"relay_full\"} 1", lines);
        Assert.Contains("relay_nats_connected 1", lines);
        Assert.Contains("# TYPE relay_viewers gauge", lines);
        Assert.All(lines.Where(l => l.Length > 0 && !l.StartsWith('#')), l => Assert.Matches(@"^relay_[a-z_]+(\{[^}]*\})? -?\d+$", l));
    }
}
