using CaptionSidecar.Overlay;

namespace CaptionSidecar.Relay;

/// <summary>One checked update from NATS: a stream's language, what it did (<see cref="CaptionUpdateKinds"/>) and its state.</summary>
/// <param name="Stream">The stream name (lower case).</param>
/// <param name="Language">The language code (lower case).</param>
/// <param name="Kind">One of <see cref="CaptionUpdateKinds"/>.</param>
/// <param name="Caption">The caption state to show.</param>
public sealed record StreamCaptionUpdate(string Stream, string Language, string Kind, OverlayCaption Caption);

/// <summary>
/// Limits tentative updates to one per <see cref="Window"/> per stream and language (docs/relay.md): a tentative
/// update within the window of the last one forwarded is held, a newer one replaces it, and it goes out when the window
/// is over; final, cleared and closed updates go out at once and drop what is held. A plain type: the caller owns the
/// clock and the timer and passes the time in.
/// </summary>
public sealed class TentativeCoalescer
{
    /// <summary>Least time between two forwarded updates of one language when the later one is tentative.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<(string Stream, string Language), Slot> _slots = [];

    /// <summary>Tentative updates replaced by a newer one (never forwarded).</summary>
    public long Coalesced { get; private set; }

    /// <summary>When the earliest held update is due; null when nothing is held.</summary>
    public DateTimeOffset? NextDue { get; private set; }

    /// <summary>Takes an update at <paramref name="now"/>; returns what to forward now (nothing, or this update).</summary>
    public IReadOnlyList<StreamCaptionUpdate> OnUpdate(StreamCaptionUpdate update, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(update);
        var key = (update.Stream, update.Language);
        if (!_slots.TryGetValue(key, out var slot))
        {
            slot = new Slot();
            _slots[key] = slot;
        }

        if (update.Kind == CaptionUpdateKinds.Tentative && slot.LastSent is { } last && now - last < Window)
        {
            if (slot.Held is not null)
            {
                Coalesced++;
            }

            slot.Held = update;
            slot.Due = last + Window;
            RecomputeDue();
            return [];
        }

        if (slot.Held is not null)
        {
            // A final (or a late tentative) carries the newer state: the held one is obsolete.
            Coalesced++;
            slot.Held = null;
            RecomputeDue();
        }

        if (update.Kind == CaptionUpdateKinds.Closed)
        {
            _slots.Remove(key);
        }
        else
        {
            slot.LastSent = now;
        }

        return [update];
    }

    /// <summary>The held updates whose window is over at <paramref name="now"/>, to forward now.</summary>
    public IReadOnlyList<StreamCaptionUpdate> OnTick(DateTimeOffset now)
    {
        if (NextDue is not { } due || due > now)
        {
            return [];
        }

        List<StreamCaptionUpdate> ready = [];
        foreach (var slot in _slots.Values)
        {
            if (slot.Held is { } held && slot.Due <= now)
            {
                ready.Add(held);
                slot.Held = null;
                slot.LastSent = now;
            }
        }

        RecomputeDue();
        return ready;
    }

    private void RecomputeDue()
    {
        DateTimeOffset? next = null;
        foreach (var slot in _slots.Values)
        {
            if (slot.Held is not null && (next is null || slot.Due < next))
            {
                next = slot.Due;
            }
        }

        NextDue = next;
    }

    private sealed class Slot
    {
        public DateTimeOffset? LastSent { get; set; }

        public StreamCaptionUpdate? Held { get; set; }

        public DateTimeOffset Due { get; set; }
    }
}
