namespace CaptionSidecar.RelayOutput;

/// <summary>
/// The sequence numbers of the messages on NATS: microseconds since the Unix epoch, strictly increasing per language
/// (the next is the later of now and the last plus one). They keep growing across sidecar restarts and a language
/// turned off and on again, so a page that drops every update whose sequence is not above the last one it showed
/// never drops a new one. Called by one caller at a time (the dispatcher calls a sink serially).
/// </summary>
internal sealed class RelaySequence(TimeProvider time)
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

    /// <summary>The next sequence of <paramref name="language"/>.</summary>
    public long Next(string language)
    {
        var now = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        var next = _last.TryGetValue(language, out var last) ? Math.Max(last + 1, now) : now;
        _last[language] = next;
        return next;
    }
}
