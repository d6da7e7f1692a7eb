using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace CaptionSidecar.Relay;

/// <summary>The relay's counters, and their Prometheus text form for <c>/metrics</c>. Thread-safe.</summary>
public sealed class RelayMetrics
{
    private readonly ConcurrentDictionary<(string Stream, string Language), int> _viewers = new();
    private readonly ConcurrentDictionary<string, long> _refused = new(StringComparer.Ordinal);
    private long _in;
    private long _forwarded;
    private long _rejected;
    private long _stale;
    private long _coalesced;
    private int _natsConnected;

    /// <summary>Updates received from NATS.</summary>
    public long MessagesIn => Interlocked.Read(ref _in);

    /// <summary>Updates handed to the feeds.</summary>
    public long MessagesForwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Updates refused as malformed (never forwarded).</summary>
    public long MessagesRejected => Interlocked.Read(ref _rejected);

    /// <summary>True while connected to NATS with the watch running.</summary>
    public bool NatsConnected => Volatile.Read(ref _natsConnected) == 1;

    /// <summary>Refusals of <paramref name="reason"/> so far.</summary>
    public long Refused(string reason) => _refused.GetValueOrDefault(reason);

    internal void CountIn() => Interlocked.Increment(ref _in);

    internal void CountForwarded() => Interlocked.Increment(ref _forwarded);

    internal void CountRejected() => Interlocked.Increment(ref _rejected);

    internal void CountStale() => Interlocked.Increment(ref _stale);

    internal void SetCoalesced(long total) => Interlocked.Exchange(ref _coalesced, total);

    internal void SetNatsConnected(bool connected) => Volatile.Write(ref _natsConnected, connected ? 1 : 0);

    /// <summary>Counts one refused connection or request (for example <c>relay_full</c>, <c>address_full</c>, <c>origin</c>).</summary>
    public void CountRefused(string reason) => _refused.AddOrUpdate(reason, 1, (_, n) => n + 1);

    /// <summary>One more (or, with -1, one fewer) viewer of a stream's language.</summary>
    public void AddViewer(string stream, string language, int delta) =>
        _viewers.AddOrUpdate((stream, language), delta, (_, n) => n + delta);

    /// <summary>The Prometheus text exposition (version 0.0.4) of every counter; <paramref name="slowViewersDropped"/> from the feeds.</summary>
    public string ToPrometheus(long slowViewersDropped)
    {
        var text = new StringBuilder();
        void Line(string format, params object[] args) => text.Append(CultureInfo.InvariantCulture, $"{string.Format(CultureInfo.InvariantCulture, format, args)}\n");

        Line("# HELP relay_viewers Viewers connected now, per stream and language.");
        Line("# TYPE relay_viewers gauge");
        foreach (var ((stream, language), count) in _viewers.OrderBy(v => v.Key.Stream, StringComparer.Ordinal).ThenBy(v => v.Key.Language, StringComparer.Ordinal))
        {
            Line("relay_viewers{{stream=\"{0}\",language=\"{1}\"}} {2}", stream, language, count);
        }

        Counter("relay_messages_in_total", "Caption updates received from NATS.", MessagesIn);
        Counter("relay_messages_out_total", "Caption updates forwarded to the feeds.", MessagesForwarded);
        Counter("relay_messages_coalesced_total", "Tentative updates replaced by a newer one before they were forwarded.", Interlocked.Read(ref _coalesced));
        Counter("relay_messages_rejected_total", "Malformed updates from NATS, never forwarded.", MessagesRejected);
        Counter("relay_messages_stale_total", "Updates not newer than the one forwarded last (replays after a reconnect).", Interlocked.Read(ref _stale));
        Counter("relay_slow_viewers_dropped_total", "Viewers dropped because they could not keep up.", slowViewersDropped);
        Line("# HELP relay_refused_total Connections refused, per reason.");
        Line("# TYPE relay_refused_total counter");
        foreach (var (reason, count) in _refused.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            Line("relay_refused_total{{reason=\"{0}\"}} {1}", reason, count);
        }

        Line("# HELP relay_nats_connected 1 while connected to NATS and watching the captions.");
        Line("# TYPE relay_nats_connected gauge");
        Line("relay_nats_connected {0}", NatsConnected ? 1 : 0);
        return text.ToString();

        void Counter(string name, string help, long value)
        {
            Line("# HELP {0} {1}", name, help);
            Line("# TYPE {0} counter", name);
            Line("{0} {1}", name, value);
        }
    }
}
