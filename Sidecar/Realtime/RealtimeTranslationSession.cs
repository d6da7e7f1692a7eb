using System.Text;
using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A Realtime conversation session that translates each turn into the track's language. The server's VAD commits
/// turns but creates no responses; this session sends one <c>response.create</c> per committed turn, one at a time
/// (the default conversation allows a single active response), with the turn's item id in <c>metadata</c>. A
/// response's text events are matched to their turn by <c>response_id</c>; structural events may come in any order,
/// so a response whose <c>response.created</c> has not arrived yet belongs to the one turn that was asked for.
/// Each response names its context in <c>input</c>: the last translated turns with their answers, then its own
/// turn, never a later one, so a speaker who outpaces the translations never gets a turn translated twice. After
/// each response the oldest conversation items are deleted so the conversation stays at
/// <see cref="RealtimeOptions.MaxConversationItems"/>. The decisions live in plain types the session's loop owns:
/// <see cref="ResponseScheduler"/> (which response to ask for, and what a refusal means) and
/// <see cref="TranslationConversation"/> (the items, the context of a response, what to delete).
/// </summary>
internal sealed partial class RealtimeTranslationSession : RealtimeSession
{
    private readonly ResponseScheduler _responses = new();
    private readonly TranslationConversation _conversation;

    // A response's text as it streams (deltas) and as its done events give it, by response id.
    private readonly Dictionary<string, StringBuilder> _deltas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StringBuilder> _doneText = new(StringComparer.Ordinal);
    private string? _lastTurn;

    public RealtimeTranslationSession(RealtimeSessionContext context, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
        : base(context, connection, captions, replay, sessionNumber)
    {
        _conversation = new TranslationConversation(Options.MaxConversationItems);
    }

    protected override string Model => Options.TranslateModel;

    /// <summary>The drain also waits for the deletes in flight, so the conversation is trimmed before the session closes.</summary>
    protected override bool KindSettled => !_conversation.DeletesPending;

    protected override (BinaryData Message, string EventId) SessionUpdate() => Events.TranslationSessionUpdate(Options, Instructions);

    protected override (BinaryData Message, string EventId) GlossaryUpdate() => Events.InstructionsUpdate(Instructions);

    private string Instructions => TranslationInstructions.For(Language, Options.Prompt, Glossary);

    /// <summary>The caption track orders input turns, so the previous turn is the previous input item, not the server's previous item (an answer).</summary>
    protected override string? PreviousTurn(string item, string? serverPrevious)
    {
        var previous = _lastTurn;
        _lastTurn = item;
        return previous;
    }

    protected override void OnTurnCommitted(string item)
    {
        _conversation.Add(item);
        _responses.Committed(item);
        RequestNextResponse();
    }

    protected override bool DispatchKind(string type, JsonElement e)
    {
        switch (type)
        {
            case "response.created":
                if (e.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object && Str(response, "id") is { } id)
                {
                    _responses.TurnOf(id, NamedTurn(response));
                }

                return true;
            case "response.output_item.added":
                if (Str(e, "response_id") is { } responseId
                    && e.TryGetProperty("item", out var added) && added.ValueKind == JsonValueKind.Object && Str(added, "id") is { } addedId)
                {
                    _responses.OutputItemAdded(responseId, addedId);
                    _conversation.Add(addedId);
                }

                return true;
            case "response.output_text.delta":
            case "response.text.delta":
            case "response.output_audio_transcript.delta":
            case "response.audio_transcript.delta":
                OnDelta(e);
                return true;
            case "response.output_text.done":
            case "response.text.done":
                OnTextDone(e, "text");
                return true;
            case "response.output_audio_transcript.done":
            case "response.audio_transcript.done":
                OnTextDone(e, "transcript");
                return true;
            case "response.done":
                OnResponseDone(e);
                return true;
            case "conversation.item.added":
            case "conversation.item.created":
            case "conversation.item.done":
                if (e.TryGetProperty("item", out var item) && item.ValueKind == JsonValueKind.Object && Str(item, "id") is { } itemId)
                {
                    _conversation.Add(itemId, Str(e, "previous_item_id"));
                }

                return true;
            case "conversation.item.deleted":
                if (Str(e, "item_id") is { } deleted)
                {
                    _conversation.Forget(deleted);
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Sends <c>response.create</c> for the oldest turn still waiting, unless a response is active (then it is asked for later, never dropped).</summary>
    private void RequestNextResponse()
    {
        if (_responses.Next() is not { } request)
        {
            return;
        }

        var create = Events.ResponseCreate(request.Turn, _conversation.Context(request.Turn, request.Alone));
        _responses.Sent(create.EventId, request.Turn);
        Send(create, "response.create");
    }

    private void OnDelta(JsonElement e)
    {
        if (Str(e, "response_id") is not { } responseId || Str(e, "delta") is not { Length: > 0 } delta)
        {
            return;
        }

        if (_responses.TurnOf(responseId) is { } turn)
        {
            Text(_deltas, responseId).Append(delta);
            Captions.TextDelta(turn, delta);
        }
    }

    private void OnTextDone(JsonElement e, string field)
    {
        if (Str(e, "response_id") is { } responseId && _responses.TurnOf(responseId) is not null)
        {
            Text(_doneText, responseId).Append(Str(e, field) ?? string.Empty);
        }
    }

    private void OnResponseDone(JsonElement e)
    {
        if (!e.TryGetProperty("response", out var response) || response.ValueKind != JsonValueKind.Object || Str(response, "id") is not { } id)
        {
            return;
        }

        var status = Str(response, "status") ?? "completed";
        var usage = response.TryGetProperty("usage", out var u) ? RealtimeUsage.FromResponse(u) : TokenUsage.None;
        var (turn, answer) = _responses.Done(id, NamedTurn(response), OutputItems(response).FirstOrDefault());
        var text = _doneText.Remove(id, out var done) ? done.ToString()
            : _deltas.Remove(id, out var deltas) ? deltas.ToString()
            : OutputText(response);
        _deltas.Remove(id);
        foreach (var output in OutputItems(response))
        {
            _conversation.Add(output);
        }

        if (turn is not null && answer is not null && status == "completed")
        {
            _conversation.Translated(turn, answer);
        }

        // Deletions are decided (and queued) before the turn is reported and finished, so the drain waits for them
        // too and the conversation is trimmed before the next turn can be committed.
        TrimConversation();
        Context.UpdateStatus(s => s with { Usage = s.Usage.Add(usage) });
        if (turn is null)
        {
            // A response nobody asked for (a server that still creates them itself): billed, not captioned.
            LogUnexpectedResponse(Logger, Language, id);
        }
        else if (status == "completed" || text.Length > 0)
        {
            Captions.TextCompleted(turn, text);
            Context.UpdateStatus(s => s with { TurnsCompleted = s.TurnsCompleted + 1 });
        }
        else
        {
            var reason = FailureReason(response, status);
            LogResponseFailed(Logger, Language, turn, status, reason);
            Captions.TurnFailed(turn, reason);
        }

        if (turn is not null)
        {
            TurnFinished(turn);
        }

        RequestNextResponse();
    }

    protected override void OnEventRefused(string clientEventId, string code, string message)
    {
        var refusal = _responses.Refused(clientEventId, code);
        switch (refusal.Outcome)
        {
            case RefusalOutcome.AskAgainWhenIdle:
                LogServerBusy(Logger, Language);
                break;
            case RefusalOutcome.AskAlone:
                LogRetryWithoutContext(Logger, Language, refusal.Turn!, code, message);
                RequestNextResponse();
                break;
            case RefusalOutcome.Failed:
                // No response was started for this turn: it fails, and the next turn gets its chance.
                Captions.TurnFailed(refusal.Turn!, $"{code}: {message}");
                TurnFinished(refusal.Turn!);
                RequestNextResponse();
                break;
            default:
                if (code == "conversation_already_has_active_response")
                {
                    LogServerBusy(Logger, Language);
                }
                else if (_conversation.DeleteOf(clientEventId) is { } item)
                {
                    // The server keeps the item (or never had it): stop tracking it; the next trim picks another.
                    LogDeleteRefused(Logger, Language, item, code, message);
                    _conversation.Forget(item, clientEventId);
                }

                break;
        }
    }

    /// <summary>Deletes the oldest items beyond the bound, skipping turns still waiting for their translation and the answer streaming.</summary>
    private void TrimConversation()
    {
        foreach (var item in _conversation.ExcessItems(item => _responses.IsActiveOutput(item) || IsPendingTurn(item)))
        {
            var delete = Events.DeleteItem(item);
            _conversation.DeleteSent(delete.EventId, item);
            Send(delete, "conversation.item.delete");
        }
    }

    /// <summary>The turn a response names in its <c>metadata.turn</c>, if any.</summary>
    private static string? NamedTurn(JsonElement response) =>
        response.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object ? Str(metadata, "turn") : null;

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

    private static StringBuilder Text(Dictionary<string, StringBuilder> texts, string responseId)
    {
        if (!texts.TryGetValue(responseId, out var text))
        {
            text = new StringBuilder();
            texts[responseId] = text;
        }

        return text;
    }

    /// <summary>The text of a response's output items (for a response whose text events never came).</summary>
    private static string OutputText(JsonElement response)
    {
        var text = new StringBuilder();
        if (response.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in output.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object)
                    {
                        text.Append(Str(part, "text") ?? Str(part, "transcript"));
                    }
                }
            }
        }

        return text.ToString();
    }

    private static string FailureReason(JsonElement response, string status)
    {
        if (!response.TryGetProperty("status_details", out var details) || details.ValueKind != JsonValueKind.Object)
        {
            return status;
        }

        if (details.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            return $"{status}: {Str(error, "message") ?? Str(error, "code") ?? Str(error, "type") ?? "unknown error"}";
        }

        return Str(details, "reason") is { } reason ? $"{status}: {reason}" : status;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the translation of {ItemId} ended {Status} without text: {Reason}")]
    private static partial void LogResponseFailed(ILogger logger, string language, string itemId, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: response {ResponseId} answered no turn this session asked for; its text is not shown")]
    private static partial void LogUnexpectedResponse(ILogger logger, string language, string responseId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the server refused the translation of {ItemId} ({Code}: {Message}); asking once more with that turn alone as context")]
    private static partial void LogRetryWithoutContext(ILogger logger, string language, string itemId, string code, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the conversation already had an active response; the translation is asked for again when it is done")]
    private static partial void LogServerBusy(ILogger logger, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the server refused to delete conversation item {ItemId} ({Code}: {Message}); it is no longer tracked")]
    private static partial void LogDeleteRefused(ILogger logger, string language, string itemId, string code, string message);
}
