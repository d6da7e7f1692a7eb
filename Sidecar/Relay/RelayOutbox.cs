using CaptionSidecar.Relay;

namespace CaptionSidecar.RelayOutput;

/// <summary>One caption update ready for NATS: its language, <see cref="CaptionUpdateKinds"/> kind, and JSON.</summary>
/// <param name="Language">The caption language (the subject's last token).</param>
/// <param name="Kind">The <see cref="CaptionSubjects.KindHeader"/> value.</param>
/// <param name="Sequence">The payload's sequence (microseconds since the Unix epoch, growing per language).</param>
/// <param name="Payload">The UTF-8 JSON (<c>OverlayCaption</c>).</param>
internal sealed record RelayMessage(string Language, string Kind, long Sequence, byte[] Payload);

/// <summary>What <see cref="RelayOutbox"/> asks its loop to do.</summary>
internal abstract record RelayAction
{
    private RelayAction()
    {
    }

    /// <summary>Publish this message (nothing else of its language is in flight); report back with Published or PublishFailed.</summary>
    public sealed record Publish(RelayMessage Message) : RelayAction;

    /// <summary>The connection is gone: stop waiting in the publishes in flight (each reports back as failed, to retry).</summary>
    public sealed record CancelPublishes : RelayAction;

    /// <summary>NATS cannot be reached (once per outage): a warning.</summary>
    /// <param name="Reason">Why, for people.</param>
    /// <param name="NeverConnected">True when the sidecar has not reached NATS since it started.</param>
    public sealed record ReportLost(string Reason, bool NeverConnected) : RelayAction;

    /// <summary>Connected for the first time.</summary>
    public sealed record ReportConnected : RelayAction;

    /// <summary>Connected again after an outage; <paramref name="Languages"/> languages' latest state goes out now.</summary>
    public sealed record ReportBack(int Languages) : RelayAction;

    /// <summary>An update over <see cref="CaptionSubjects.MaxPayloadBytes"/> was dropped (counted).</summary>
    public sealed record ReportTooLarge(RelayMessage Message) : RelayAction;

    /// <summary>The server refused something (a permission, most likely: the stream is not this user's); once per distinct error in a row.</summary>
    public sealed record ReportServerError(string Error) : RelayAction;

    /// <summary>A publish failed for good (not a lost connection); the message was dropped (counted).</summary>
    public sealed record ReportFailed(RelayMessage Message, string Reason) : RelayAction;
}

/// <summary>
/// The relay publisher's decisions, a plain type (events in, actions out; no sockets, no clock). It keeps, per
/// language, at most one message in flight and the latest one not yet published: a newer update replaces the
/// unpublished one (the relay and its viewers only need the latest state), so nothing piles up while NATS is away.
/// When the connection returns the latest state of every language goes out at once. The loss is reported once per
/// outage and the return once.
/// </summary>
/// <remarks>
/// A replaced <see cref="CaptionUpdateKinds.Final"/> message passes its kind on to a <see cref="CaptionUpdateKinds.Tentative"/>
/// one that replaces it: the newer state shows the line that became final, and a relay must not hold it back as a
/// mere tentative change.
/// </remarks>
internal sealed class RelayOutbox
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private bool _everConnected;
    private bool _lostReported;
    private string? _lastServerError;

    /// <summary>True while the connection is up.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>True when nothing waits and nothing is in flight.</summary>
    public bool IsIdle => _slots.Values.All(s => s.Pending is null && s.InFlight is null);

    /// <summary>Languages with a message waiting or in flight.</summary>
    public int Unpublished => _slots.Values.Count(s => s.Pending is not null || s.InFlight is not null);

    /// <summary>Messages published.</summary>
    public long Published { get; private set; }

    /// <summary>Messages replaced by a newer one of their language before they were published.</summary>
    public long Superseded { get; private set; }

    /// <summary>Messages dropped: too large, or their publish failed for good.</summary>
    public long Dropped { get; private set; }

    /// <summary>The last problem (lost connection, dropped message), or null when there was none.</summary>
    public string? LastError { get; private set; }

    /// <summary>A new update of a language.</summary>
    public IReadOnlyList<RelayAction> Update(RelayMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Payload.Length > CaptionSubjects.MaxPayloadBytes)
        {
            Dropped++;
            LastError = $"an update of {message.Language} was {message.Payload.Length} bytes, over the {CaptionSubjects.MaxPayloadBytes} byte limit, and was not published";
            return [new RelayAction.ReportTooLarge(message)];
        }

        var slot = SlotOf(message.Language);
        if (slot.Pending is { } older)
        {
            Superseded++;
            message = Merge(older, message);
        }

        slot.Pending = message;
        return TrySend(slot) is { } publish ? [publish] : [];
    }

    /// <summary>The connection is up (first connect or reconnect).</summary>
    public IReadOnlyList<RelayAction> Connected()
    {
        if (IsConnected)
        {
            return [];
        }

        IsConnected = true;
        var actions = new List<RelayAction>();
        if (_lostReported)
        {
            actions.Add(new RelayAction.ReportBack(_slots.Values.Count(s => s.Pending is not null)));
        }
        else if (!_everConnected)
        {
            actions.Add(new RelayAction.ReportConnected());
        }

        _lostReported = false;
        _everConnected = true;
        foreach (var slot in _slots.Values)
        {
            if (TrySend(slot) is { } publish)
            {
                actions.Add(publish);
            }
        }

        return actions;
    }

    /// <summary>NATS cannot be reached: the connection was lost, or a connect attempt failed.</summary>
    public IReadOnlyList<RelayAction> Unreachable(string reason)
    {
        LastError = reason;
        var wasConnected = IsConnected;
        IsConnected = false;
        var actions = new List<RelayAction>();
        if (!_lostReported)
        {
            _lostReported = true;
            actions.Add(new RelayAction.ReportLost(reason, !_everConnected));
        }

        if (wasConnected && _slots.Values.Any(s => s.InFlight is not null))
        {
            actions.Add(new RelayAction.CancelPublishes());
        }

        return actions;
    }

    /// <summary>
    /// The server sent an error (for example a permissions violation: core publishes are not answered, so this is how
    /// a publish to a stream the user may not write shows). Reported when it differs from the last one reported.
    /// </summary>
    public IReadOnlyList<RelayAction> ServerError(string error)
    {
        LastError = error;
        if (string.Equals(error, _lastServerError, StringComparison.Ordinal))
        {
            return [];
        }

        _lastServerError = error;
        return [new RelayAction.ReportServerError(error)];
    }

    /// <summary>The message in flight for <paramref name="language"/> was handed to NATS.</summary>
    public IReadOnlyList<RelayAction> PublishSucceeded(string language)
    {
        if (!_slots.TryGetValue(language, out var slot) || slot.InFlight is not { } sent)
        {
            return [];
        }

        Published++;
        slot.InFlight = null;
        if (slot.Pending is null && sent.Kind == CaptionUpdateKinds.Closed)
        {
            // The language is off: forget it until it comes back.
            _slots.Remove(language);
            return [];
        }

        return TrySend(slot) is { } publish ? [publish] : [];
    }

    /// <summary>
    /// The message in flight for <paramref name="language"/> was not published. With <paramref name="retry"/> (the
    /// connection went away) it waits for the connection's return unless a newer one replaced it meanwhile; else it
    /// is dropped.
    /// </summary>
    public IReadOnlyList<RelayAction> PublishFailed(string language, string reason, bool retry)
    {
        if (!_slots.TryGetValue(language, out var slot) || slot.InFlight is not { } failed)
        {
            return [];
        }

        slot.InFlight = null;
        if (!retry)
        {
            Dropped++;
            LastError = reason;
            return [new RelayAction.ReportFailed(failed, reason)];
        }

        if (slot.Pending is { } newer)
        {
            Superseded++;
            slot.Pending = Merge(failed, newer);
        }
        else
        {
            slot.Pending = failed;
        }

        // Sent again when the connection is back (or with the language's next update), not at once: a publish that
        // fails while the connection looks up would otherwise be retried in a tight loop.
        return [];
    }

    private RelayAction.Publish? TrySend(Slot slot)
    {
        if (!IsConnected || slot.InFlight is not null || slot.Pending is not { } next)
        {
            return null;
        }

        slot.InFlight = next;
        slot.Pending = null;
        return new RelayAction.Publish(next);
    }

    private Slot SlotOf(string language)
    {
        if (!_slots.TryGetValue(language, out var slot))
        {
            slot = new Slot();
            _slots[language] = slot;
        }

        return slot;
    }

    /// <summary>The newer message, keeping <see cref="CaptionUpdateKinds.Final"/> when only the tail changed after it.</summary>
    private static RelayMessage Merge(RelayMessage older, RelayMessage newer) =>
        older.Kind == CaptionUpdateKinds.Final && newer.Kind == CaptionUpdateKinds.Tentative
            ? newer with { Kind = CaptionUpdateKinds.Final }
            : newer;

    private sealed class Slot
    {
        public RelayMessage? InFlight { get; set; }

        public RelayMessage? Pending { get; set; }
    }
}
