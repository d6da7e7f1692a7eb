using System.Text;
using System.Text.Json;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Translation;

// A text translation track, its sessions' server events.
internal sealed partial class RealtimeTextTranslationTrack
{
    private void Handle(TextTranslationSession session, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || Str(e, "type") is not { } type)
        {
            LogMalformed(Language.Code, 0, "no event type");
            return;
        }

        try
        {
            Dispatch(session, type, e);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A field of an unexpected JSON type: keep the session, log what came.
            LogMalformed(Language.Code, 0, ex.Message);
        }
    }

    private void Dispatch(TextTranslationSession session, string type, JsonElement e)
    {
        switch (type)
        {
            case "session.created":
                OnSessionCreated(session, e);
                break;
            case "session.updated":
                OnSessionUpdated(session);
                break;
            case "error":
                OnError(session, e);
                break;
            case "conversation.item.added":
            case "conversation.item.created":
            case "conversation.item.done":
                if (Obj(e, "item") is { } item && Str(item, "id") is { } itemId)
                {
                    session.Conversation.Add(itemId, Str(e, "previous_item_id"));
                }

                break;
            case "conversation.item.deleted":
                if (Str(e, "item_id") is { } deleted)
                {
                    session.Conversation.Forget(deleted);
                }

                break;
            case "response.created":
                if (Obj(e, "response") is { } created && Str(created, "id") is { } createdId)
                {
                    session.IsAsked(createdId, NamedTurn(created));
                }

                break;
            case "response.output_item.added":
                if (session.IsAsked(Str(e, "response_id"), null) && Obj(e, "item") is { } added && Str(added, "id") is { } addedId && session.Ask is { } ask)
                {
                    ask.AnswerItem ??= addedId;
                    session.Conversation.Add(addedId);
                }

                break;
            case "response.output_text.delta":
            case "response.text.delta":
                OnDelta(session, e);
                break;
            case "response.output_text.done":
            case "response.text.done":
                if (session.IsAsked(Str(e, "response_id"), null) && session.Ask is { } doneAsk)
                {
                    doneAsk.DoneText = (doneAsk.DoneText ?? string.Empty) + (Str(e, "text") ?? string.Empty);
                }

                break;
            case "response.done":
                OnResponseDone(session, e);
                break;
            default:
                // rate_limits.updated, content parts, output_item.done and anything newer: nothing to do.
                break;
        }
    }

    private void OnSessionCreated(TextTranslationSession session, JsonElement e)
    {
        if (session.Phase != TextSessionPhase.AwaitingCreated)
        {
            return;
        }

        if (Obj(e, "session") is { } created)
        {
            session.SessionId = Str(created, "id") ?? "unknown";

            // 0 means "does not expire" (a server without a limit).
            session.ExpiresAt = created.TryGetProperty("expires_at", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds) && seconds > 0
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }

        session.Glossary = _glossary.Current;
        var update = session.Events.TextTranslationSessionUpdate(_options, Instructions(session.Glossary));
        session.ConfigEventId = update.EventId;
        session.Send(update, "session.update");
        session.Phase = TextSessionPhase.AwaitingUpdated;
    }

    private void OnSessionUpdated(TextTranslationSession session)
    {
        if (session.Phase != TextSessionPhase.AwaitingUpdated)
        {
            return;
        }

        var now = Now;
        session.Phase = TextSessionPhase.Ready;
        session.HandshakeDeadline = null;
        session.RolloverAt = new RolloverSchedule(TimeSpan.FromMinutes(_options.RolloverAfterMinutes), now, session.ExpiresAt).StartAt;
        LogReady(Language.Code, session.SessionId, _options.TextTranslateModel);
        Seed(session, _recent);
        if (session == _live)
        {
            UpdateStatus(s => s with { State = _linesEnded ? TrackSessionState.Draining : TrackSessionState.Connected, SessionId = session.SessionId, ConnectedAt = now, ExpiresAt = session.ExpiresAt });
        }
    }

    private void OnError(TextTranslationSession session, JsonElement e)
    {
        var error = RealtimeServerError.From(e);
        UpdateStatus(s => s with { LastError = error.Summary });
        if (error.Code == "session_expired")
        {
            // The server closes the connection next; the session is replaced then.
            LogSessionExpired(Language.Code, session.Number, error.Message ?? "no message");
            return;
        }

        var eventId = error.EventId;
        if (eventId is not null && eventId == session.ConfigEventId && session.Phase == TextSessionPhase.AwaitingUpdated)
        {
            throw new RealtimeConfigurationException(
                $"The Realtime server refused the text translation session's configuration: {error.Summary}" + (error.Param is null ? string.Empty : $" (setting {error.Param})"));
        }

        if (session.Ask is { } ask && eventId == ask.ResponseEventId)
        {
            // No response was started: the line is asked once more alone (perhaps a context item is gone), then fails.
            session.Ask = null;
            if (!ask.Cancelled)
            {
                LineFailed(ask.Line, error.Summary);
            }

            return;
        }

        if (eventId is not null && session.Conversation.DeleteOf(eventId) is { } item)
        {
            // The server keeps the item (or never had it): stop tracking it; the next trim picks another.
            session.Conversation.Forget(item, eventId);
            LogServerError(Language.Code, error.Describe("conversation.item.delete"));
            return;
        }

        if (error.Code == "response_cancel_not_active")
        {
            // The response ended before the cancel came: its response.done finishes it.
            return;
        }

        // A refused item create is followed by its refused response (the reference is unknown): handled there.
        LogServerError(Language.Code, error.Describe(session.Ask?.CreateEventId == eventId ? "conversation.item.create" : null));
    }

    private void OnDelta(TextTranslationSession session, JsonElement e)
    {
        if (Str(e, "delta") is not { Length: > 0 } delta || !session.IsAsked(Str(e, "response_id"), null) || session.Ask is not { Cancelled: false } ask)
        {
            return;
        }

        ask.Streamed.Append(delta);
        if (_schedule.Delta(ask.Line, delta) is { } shown && _schedule.Active is { } line)
        {
            _captions(line.Source.SpeakerKey).TextDelta(ask.Line, shown);
        }
    }

    private void OnResponseDone(TextTranslationSession session, JsonElement e)
    {
        if (Obj(e, "response") is not { } response || Str(response, "id") is not { } id)
        {
            return;
        }

        var usage = response.TryGetProperty("usage", out var u) ? RealtimeUsage.FromResponse(u) : TokenUsage.None;
        UpdateStatus(s => s with { Usage = s.Usage.Add(usage) });
        foreach (var output in OutputItems(response))
        {
            session.Conversation.Add(output);
        }

        if (!session.IsAsked(id, NamedTurn(response)) || session.Ask is not { } ask)
        {
            // A response nobody here asked for: billed, not shown.
            LogUnexpectedResponse(Language.Code, id);
            return;
        }

        session.Ask = null;
        var status = Str(response, "status") ?? "completed";
        if (ask.Cancelled)
        {
            // Its line was skipped (lag limit) and reported then.
            TrimConversation(session);
            return;
        }

        var text = ask.DoneText ?? (ask.Streamed.Length > 0 ? ask.Streamed.ToString() : OutputText(response));
        if (status == "completed" || text.Length > 0)
        {
            session.Answered++;
            if ((ask.AnswerItem ?? OutputItems(response).FirstOrDefault()) is { } answer && status == "completed")
            {
                session.Conversation.Translated(ask.ItemId, answer);
            }

            TrimConversation(session);
            if (_schedule.Completed(ask.Line) is { } line)
            {
                if (text.Trim() is { Length: > 0 } translation)
                {
                    Remember(line.Source.Text, translation);
                }

                _captions(line.Source.SpeakerKey).TextCompleted(ask.Line, text.Trim());
                UpdateStatus(s => s with { TurnsCompleted = s.TurnsCompleted + 1 });
            }

            return;
        }

        TrimConversation(session);
        LineFailed(ask.Line, FailureReason(response, status));
    }

    /// <summary>A line's answer was refused or failed: asked once more alone, else it fails (reported once).</summary>
    private void LineFailed(string lineItemId, string reason)
    {
        var speaker = _schedule.Active?.Source.SpeakerKey;
        switch (_schedule.Failed(lineItemId))
        {
            case FailureOutcome.AskAlone:
                LogRetryAlone(Language.Code, lineItemId, reason);
                break;
            case FailureOutcome.Failed:
                LogLineFailed(Language.Code, lineItemId, reason);
                _captions(speaker!).TurnFailed(lineItemId, reason);
                break;
            default:
                break;
        }
    }

    /// <summary>Deletes the oldest items beyond the bound, never the line being asked for nor its answer.</summary>
    private static void TrimConversation(TextTranslationSession session)
    {
        var keep = session.Ask;
        foreach (var item in session.Conversation.ExcessItems(item => keep is not null && (item == keep.ItemId || item == keep.AnswerItem)))
        {
            var delete = session.Events.DeleteItem(item);
            session.Conversation.DeleteSent(delete.EventId, item);
            session.Send(delete, "conversation.item.delete");
        }
    }

    private static string? NamedTurn(JsonElement response) => Obj(response, "metadata") is { } metadata ? Str(metadata, "turn") : null;

    /// <summary>The ids of a response's output items in the conversation (a response out of band has none there).</summary>
    private static List<string> OutputItems(JsonElement response)
    {
        var items = new List<string>();
        if (Str(response, "conversation_id") is not null && response.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in output.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && Str(item, "id") is { } itemId)
                {
                    items.Add(itemId);
                }
            }
        }

        return items;
    }

    /// <summary>The text of a response's output items (for a response whose text events never came).</summary>
    private static string OutputText(JsonElement response)
    {
        var text = new StringBuilder();
        if (response.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in output.EnumerateArray())
            {
                if (Arr(item, "content") is not { } content)
                {
                    continue;
                }

                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object)
                    {
                        text.Append(Str(part, "text"));
                    }
                }
            }
        }

        return text.ToString();
    }

    private static string FailureReason(JsonElement response, string status)
    {
        if (Obj(response, "status_details") is not { } details)
        {
            return status;
        }

        if (Obj(details, "error") is { } error)
        {
            return $"{status}: {Str(error, "message") ?? Str(error, "code") ?? Str(error, "type") ?? "unknown error"}";
        }

        return Str(details, "reason") is { } reason ? $"{status}: {reason}" : status;
    }

    private static JsonElement? Obj(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static JsonElement? Arr(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v : null;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Text translation {Language}: Realtime session {SessionId} ready (model {Model})")]
    private partial void LogReady(string language, string sessionId, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: the translation of {ItemId} was not final within {LagSeconds} s of the line; skipped (Realtime:TranslationLagSeconds)")]
    private partial void LogSkippedLate(string language, string itemId, double lagSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: the translation of {ItemId} failed ({Reason}); asking once more with that line alone")]
    private partial void LogRetryAlone(string language, string itemId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: the translation of {ItemId} failed again ({Reason}); the line is skipped")]
    private partial void LogLineFailed(string language, string itemId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: response {ResponseId} answered no line this track asked for; its text is not shown")]
    private partial void LogUnexpectedResponse(string language, string responseId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: the Realtime server reported {Error}")]
    private partial void LogServerError(string language, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Text translation {Language}: session {Number} reached its maximum duration ({Message}); a new session takes over")]
    private partial void LogSessionExpired(string language, int number, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: ignored a malformed message from the Realtime server ({Length} bytes): {Problem}")]
    private partial void LogMalformed(string language, int length, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: session {Number} ended ({Reason}); its unfinished line is asked again in the next session")]
    private partial void LogSessionLost(string language, int number, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: could not open a Realtime session at {Host} ({Reason}); retry {Attempt} in {DelayMs} ms")]
    private partial void LogConnectRetry(string language, string host, string reason, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Text translation {Language}: session {Number} nears its limit; opening the next one beside it")]
    private partial void LogRolloverStarting(string language, int number);

    [LoggerMessage(Level = LogLevel.Information, Message = "Text translation {Language}: rolled over from session {Old} to session {New} between two lines")]
    private partial void LogRolledOver(string language, int old, int @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: the session opened ahead of the limit ended ({Reason}); the current one carries on")]
    private partial void LogRolloverFailed(string language, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Text translation {Language}: session {Number} now uses the changed glossary ({Terms} terms) from its next line")]
    private partial void LogGlossarySent(string language, int number, int terms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: {Pending} lines were still untranslated {Seconds} s after the input ended; giving up on them")]
    private partial void LogDrainTimedOut(string language, int seconds, int pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: line {ItemId} was taken already; the repeat is ignored")]
    private partial void LogDuplicateLine(string language, string itemId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation {Language}: sending to the Realtime server failed")]
    private partial void LogSendFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Text translation {Language}: closing the Realtime connection failed: {Reason}")]
    private partial void LogCloseFailed(string language, string reason);
}
