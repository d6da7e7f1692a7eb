using System.Globalization;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Whether a session hears speech but has stopped answering: committed turns waited <c>limit</c> with no text at all
/// for any of them (no delta, completion or failure). Queued turns do not count against a session that keeps
/// answering: any text restarts the wait. A plain type the session's loop feeds and asks (the loop's timer wakes it
/// at <see cref="Deadline"/>); no clock of its own.
/// </summary>
/// <param name="limit">How long committed turns may get no text; zero or less turns the watchdog off.</param>
internal sealed class TextWatchdog(TimeSpan limit)
{
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private DateTimeOffset _waitingSince;

    /// <summary>When the turns waiting now have waited too long (null when none waits or the watchdog is off).</summary>
    public DateTimeOffset? Deadline => limit > TimeSpan.Zero && _waiting.Count > 0 ? _waitingSince + limit : null;

    /// <summary>A turn was committed at <paramref name="now"/>: it waits for text.</summary>
    public void Committed(string item, DateTimeOffset now)
    {
        if (_waiting.Count == 0)
        {
            _waitingSince = now;
        }

        _waiting.Add(item);
    }

    /// <summary>Text (or a failure, when <paramref name="finished"/>) came for <paramref name="item"/>: the session answers, the wait restarts.</summary>
    public void Answered(string item, bool finished, DateTimeOffset now)
    {
        if (finished)
        {
            _waiting.Remove(item);
        }

        _waitingSince = now;
    }

    /// <summary>Why the session counts as stalled at <paramref name="now"/>, or null while it does not.</summary>
    public string? Stalled(DateTimeOffset now) => Deadline is { } deadline && now >= deadline
        ? string.Create(CultureInfo.InvariantCulture, $"{_waiting.Count} committed turn(s) got no text for {limit.TotalSeconds:0.#} s")
        : null;
}
