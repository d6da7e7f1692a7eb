using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

// A Realtime session, its server side: receiving, parsing and dispatching server events, errors, and what the captions hear.
internal abstract partial class RealtimeSession
{
    /// <summary>Reads server events until the connection ends, and passes them to the loop in order.</summary>
    private async Task ReceiveAsync(CancellationToken lost)
    {
        await Task.Yield();
        string reason;
        try
        {
            await foreach (var message in _connection.ReceiveAsync(lost))
            {
                if (Parse(message) is { } document && !await PostAsync(new SessionInput.ServerEvent(document, message.ToMemory().Length), lost))
                {
                    document.Dispose();
                    return;
                }
            }

            reason = "the server closed the connection";
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = ex.Message;
        }

        // Also kept aside: a send that fails at the same time may end the loop before it reads this.
        Volatile.Write(ref _closedBy, reason);
        try
        {
            await PostAsync(new SessionInput.ConnectionEnded(reason), lost);
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // The loop ended meanwhile.
        }
    }

    private JsonDocument? Parse(BinaryData message)
    {
        try
        {
            return JsonDocument.Parse(message.ToMemory());
        }
        catch (JsonException ex)
        {
            LogMalformed(Language, message.ToMemory().Length, Snippet(message.ToMemory().Span), ex.Message);
            return null;
        }
    }

    private void Handle(JsonElement root, int length)
    {
        if (root.ValueKind != JsonValueKind.Object || Str(root, "type") is not { } type)
        {
            LogMalformed(Language, length, Snippet(Encoding.UTF8.GetBytes(root.GetRawText())), "no event type");
            return;
        }

        try
        {
            Dispatch(type, root);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A field of an unexpected JSON type: keep the session, log what came.
            LogMalformed(Language, length, Snippet(Encoding.UTF8.GetBytes(root.GetRawText())), ex.Message);
        }
    }

    private void Dispatch(string type, JsonElement e)
    {
        switch (type)
        {
            case "session.created":
            case "transcription_session.created":
                OnSessionCreated(e);
                break;
            case "session.updated":
            case "transcription_session.updated":
                OnSessionUpdated();
                break;
            case "input_audio_buffer.speech_started":
                var started = _turns.SpeechStarted(Str(e, "item_id"), Num(e, "audio_start_ms"));
                if (!_handover.HandedOver)
                {
                    // After a handover the successor hears the live speech and reports it.
                    Captions.SpeechStarted(started);
                }

                break;
            case "input_audio_buffer.speech_stopped":
                var stopped = _turns.SpeechStopped(Str(e, "item_id"), Num(e, "audio_end_ms"));
                if (!_handover.HandedOver)
                {
                    Captions.SpeechStopped(stopped);
                }

                break;
            case "input_audio_buffer.committed":
                OnCommitted(e);
                break;
            case "input_audio_buffer.cleared":
                _cleared = true;
                break;
            case "rate_limits.updated":
                OnRateLimits(e);
                break;
            case "error":
                OnError(e);
                break;
            default:
                // conversation.created and anything newer: nothing to do.
                DispatchKind(type, e);
                break;
        }
    }

    private void OnSessionCreated(JsonElement e)
    {
        if (_phase != SessionPhase.AwaitingCreated || !e.TryGetProperty("session", out var session))
        {
            return;
        }

        _sessionId = Str(session, "id") ?? "unknown";

        // 0 means "does not expire" (a server without a limit).
        _expiresAt = session.TryGetProperty("expires_at", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        _glossary = Context.Glossary?.Current ?? _glossary;
        var update = SessionUpdate();
        _configEventId = update.EventId;
        Send(update, "session.update");
        _phase = SessionPhase.AwaitingUpdated;
        _handshakeDeadline = Now + TimeSpan.FromSeconds(Options.HandshakeTimeoutSeconds);
    }

    private void OnSessionUpdated()
    {
        if (_phase != SessionPhase.AwaitingUpdated)
        {
            return;
        }

        _phase = SessionPhase.Ready;
        _handshakeDeadline = null;
        LogConfigured(Language, _sessionId, Model, Options.TurnDetection);
        _ready.TrySetResult(_expiresAt);
    }

    private void OnCommitted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var previous = PreviousTurn(item, Str(e, "previous_item_id"));
        var turn = _turns.Committed(item);
        if (turn.LeftToSuccessor)
        {
            // Speech that began at the handover: the successor heard it from its start too and captions it.
            LogLeftToSuccessor(Language, item);
            Captions.TurnFailed(item, "heard by the next session");
            return;
        }

        Captions.TurnCommitted(item, previous, turn.Start, turn.End);
        OnTurnCommitted(item);
    }

    /// <summary>The turn <paramref name="item"/> got its text or failed: it no longer holds back the drain or the resume point.</summary>
    protected void TurnFinished(string item) => _turns.Finished(item);

    /// <summary>
    /// True for a turn this session committed after its handover from audio its successor heard too: the successor
    /// captions it, so its text here is ignored.
    /// </summary>
    protected bool IsHeardByNext(string item) => _turns.IsLeftToSuccessor(item);

    /// <summary>True while <paramref name="item"/> is a committed turn still waiting for its text.</summary>
    protected bool IsPendingTurn(string item) => _turns.IsPending(item);

    private void OnRateLimits(JsonElement e)
    {
        if (!e.TryGetProperty("rate_limits", out var limits) || limits.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var list = new List<RateLimitStatus>();
        foreach (var limit in limits.EnumerateArray())
        {
            list.Add(new RateLimitStatus(
                Str(limit, "name") ?? "unknown",
                Num(limit, "limit"),
                Num(limit, "remaining"),
                limit.TryGetProperty("reset_seconds", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0));
        }

        Context.UpdateStatus(s => s with { RateLimits = list });
    }

    private void OnError(JsonElement e)
    {
        var error = RealtimeServerError.From(e);
        Context.UpdateStatus(s => s with { LastError = error.Summary });
        if (error.Code == "session_expired")
        {
            LogSessionExpired(Language, error.Message ?? "no message");
            return;
        }

        LogServerError(Language, error.Describe(_sent.TypeOf(error.EventId)));
        if (error.EventId is not { } clientEventId)
        {
            return;
        }

        if (clientEventId == _configEventId)
        {
            if (_phase == SessionPhase.AwaitingUpdated)
            {
                throw new RealtimeConfigurationException(
                    $"The Realtime server refused the session configuration: {error.Summary}" + (error.Param is null ? string.Empty : $" (setting {error.Param})"));
            }
        }
        else if (clientEventId == _clearEventId)
        {
            // The final clear was answered, by an error naming it: the server has heard everything all the same.
            _cleared = true;
        }
        else
        {
            OnEventRefused(clientEventId, error.CodeOrUnknown, error.Message ?? string.Empty);
        }
    }

    /// <summary>A string field, or null when missing or not a string.</summary>
    protected static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer field, or 0 when missing or not an integer.</summary>
    protected static long Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static string Snippet(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 120)]);
        return text.ReplaceLineEndings(" ");
    }

    /// <summary>Passes every report on, and tells the session's watchdog about turns and their text.</summary>
    private sealed class WatchedCaptions(ICaptionInput captions, RealtimeSession session) : ICaptionInput
    {
        public void SpeechStarted(TimeSpan at) => captions.SpeechStarted(at);

        public void SpeechStopped(TimeSpan at) => captions.SpeechStopped(at);

        public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
        {
            captions.TurnCommitted(itemId, previousItemId, start, end);
            session._watchdog.Committed(itemId, session.Now);
        }

        public void TextDelta(string itemId, string delta)
        {
            captions.TextDelta(itemId, delta);
            session._watchdog.Answered(itemId, finished: false, session.Now);
        }

        public void TextCompleted(string itemId, string text)
        {
            captions.TextCompleted(itemId, text);
            session._watchdog.Answered(itemId, finished: true, session.Now);
        }

        public void TurnFailed(string itemId, string reason)
        {
            captions.TurnFailed(itemId, reason);
            session._watchdog.Answered(itemId, finished: true, session.Now);
        }
    }
}
