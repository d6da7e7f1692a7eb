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
/// <see cref="RealtimeOptions.MaxConversationItems"/>.
/// </summary>
internal sealed partial class RealtimeTranslationSession : RealtimeSession
{
    private readonly string _instructions;

    // Response state (under Gate).
    private readonly LinkedList<string> _awaitingResponse = new();
    private readonly Dictionary<string, string> _turnOfResponse = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StringBuilder> _deltas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StringBuilder> _doneText = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _turnOfCreateEvent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _answerOfResponse = new(StringComparer.Ordinal);
    private readonly List<(string Turn, string Answer)> _translated = [];
    private readonly HashSet<string> _withoutContext = new(StringComparer.Ordinal);
    private string? _activeTurn;
    private string? _lastTurn;
    private bool _serverBusy;

    // Conversation items, oldest first (under Gate).
    private readonly List<string> _items = [];
    private readonly HashSet<string> _activeOutputItems = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _itemOfDeleteEvent = new(StringComparer.Ordinal);
    private TaskCompletionSource _deletesDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RealtimeTranslationSession(RealtimeTrack track, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
        : base(track, connection, captions, replay, sessionNumber)
    {
        _instructions = TranslationInstructions.For(Language, Options.Prompt);
        _deletesDone.TrySetResult();
    }

    protected override string Model => Options.TranslateModel;

    protected override (BinaryData Message, string EventId) SessionUpdate() => Events.TranslationSessionUpdate(Options, _instructions);

    /// <summary>The caption track orders input turns, so the previous turn is the previous input item, not the server's previous item (an answer).</summary>
    protected override string? PreviousTurn(string item, string? serverPrevious)
    {
        lock (Gate)
        {
            var previous = _lastTurn;
            _lastTurn = item;
            return previous;
        }
    }

    protected override void OnTurnCommitted(string item)
    {
        lock (Gate)
        {
            AddItem(item, null);
            _awaitingResponse.AddLast(item);
        }

        RequestNextResponse();
    }

    protected override Task AfterTurnsSettled()
    {
        lock (Gate)
        {
            return _deletesDone.Task;
        }
    }

    protected override bool DispatchKind(string type, JsonElement e)
    {
        switch (type)
        {
            case "response.created":
                OnResponseCreated(e);
                return true;
            case "response.output_item.added":
                OnOutputItemAdded(e);
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
                if (e.TryGetProperty("item", out var item) && item.ValueKind == JsonValueKind.Object && Str(item, "id") is { } id)
                {
                    lock (Gate)
                    {
                        AddItem(id, Str(e, "previous_item_id"));
                    }
                }

                return true;
            case "conversation.item.deleted":
                if (Str(e, "item_id") is { } deleted)
                {
                    ForgetItem(deleted, eventId: null);
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Sends <c>response.create</c> for the oldest turn still waiting, unless a response is active.</summary>
    private void RequestNextResponse()
    {
        (BinaryData Message, string EventId) create;
        lock (Gate)
        {
            if (_activeTurn is not null || _serverBusy || _awaitingResponse.First is not { } first)
            {
                return;
            }

            var turn = first.Value;
            _awaitingResponse.RemoveFirst();
            _activeTurn = turn;
            create = Events.ResponseCreate(turn, Context(turn));
            _turnOfCreateEvent[create.EventId] = turn;
        }

        Enqueue(create, "response.create");
    }

    private void OnResponseCreated(JsonElement e)
    {
        if (e.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object && Str(response, "id") is { } id)
        {
            lock (Gate)
            {
                TurnOf(id, response);
            }
        }
    }

    private void OnOutputItemAdded(JsonElement e)
    {
        if (Str(e, "response_id") is not { } responseId
            || !e.TryGetProperty("item", out var item) || item.ValueKind != JsonValueKind.Object || Str(item, "id") is not { } itemId)
        {
            return;
        }

        lock (Gate)
        {
            if (TurnOf(responseId, null) is not null)
            {
                _activeOutputItems.Add(itemId);
                _answerOfResponse.TryAdd(responseId, itemId);
            }

            AddItem(itemId, null);
        }
    }

    private void OnDelta(JsonElement e)
    {
        if (Str(e, "response_id") is not { } responseId || Str(e, "delta") is not { Length: > 0 } delta)
        {
            return;
        }

        string? turn;
        lock (Gate)
        {
            turn = TurnOf(responseId, null);
            if (turn is not null)
            {
                Text(_deltas, responseId).Append(delta);
            }
        }

        if (turn is not null)
        {
            Captions.TextDelta(turn, delta);
        }
    }

    private void OnTextDone(JsonElement e, string field)
    {
        if (Str(e, "response_id") is not { } responseId)
        {
            return;
        }

        lock (Gate)
        {
            if (TurnOf(responseId, null) is not null)
            {
                Text(_doneText, responseId).Append(Str(e, field) ?? string.Empty);
            }
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
        string? turn;
        string text;
        lock (Gate)
        {
            turn = TurnOf(id, response);
            text = _doneText.Remove(id, out var done) ? done.ToString()
                : _deltas.Remove(id, out var deltas) ? deltas.ToString()
                : OutputText(response);
            _deltas.Remove(id);
            _turnOfResponse.Remove(id);
            _activeOutputItems.Clear();
            var answer = _answerOfResponse.Remove(id, out var added) ? added : null;
            if (response.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in output.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && Str(item, "id") is { } itemId && Str(response, "conversation_id") is not null)
                    {
                        AddItem(itemId, null);
                        answer ??= itemId;
                    }
                }
            }

            if (turn is not null && answer is not null && status == "completed")
            {
                _translated.Add((turn, answer));
                if (_translated.Count > Options.MaxConversationItems)
                {
                    _translated.RemoveAt(0);
                }
            }

            if (turn is not null && turn == _activeTurn)
            {
                _activeTurn = null;
            }

            if (turn is not null)
            {
                _withoutContext.Remove(turn);
            }

            _serverBusy = false;
            if (turn is not null && _turnOfCreateEvent.FirstOrDefault(p => p.Value == turn).Key is { } createEvent)
            {
                _turnOfCreateEvent.Remove(createEvent);
            }
        }

        // Deletions are decided (and queued) before the turn is reported and finished, so the drain waits for them
        // too and the conversation is trimmed before the next turn can be committed.
        TrimConversation();
        Track.UpdateStatus(s => s with { Usage = s.Usage.Add(usage) });
        if (turn is null)
        {
            // A response nobody asked for (a server that still creates them itself): billed, not captioned.
            LogUnexpectedResponse(Logger, Language, id);
        }
        else if (status == "completed" || text.Length > 0)
        {
            Captions.TextCompleted(turn, text);
            Track.UpdateStatus(s => s with { TurnsCompleted = s.TurnsCompleted + 1 });
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
        string? turn, item;
        var busy = code == "conversation_already_has_active_response";
        var retry = false;
        lock (Gate)
        {
            turn = _turnOfCreateEvent.Remove(clientEventId, out var t) ? t : null;
            item = _itemOfDeleteEvent.GetValueOrDefault(clientEventId);
            if (turn is not null && turn == _activeTurn && !_turnOfResponse.ContainsValue(turn))
            {
                _activeTurn = null;
                if (busy)
                {
                    // A response this session did not ask for is running: ask again for the same turn once it is done.
                    _serverBusy = true;
                    _awaitingResponse.AddFirst(turn);
                    turn = null;
                }
                else if (_withoutContext.Add(turn))
                {
                    // Perhaps a context item is gone (the server truncated it): ask once more with the turn alone.
                    _awaitingResponse.AddFirst(turn);
                    retry = true;
                }
            }
            else
            {
                turn = null;
            }

            if (turn is not null && !retry)
            {
                _withoutContext.Remove(turn);
            }
        }

        if (busy)
        {
            LogServerBusy(Logger, Language);
        }
        else if (retry)
        {
            LogRetryWithoutContext(Logger, Language, turn!, code, message);
            RequestNextResponse();
        }
        else if (turn is not null)
        {
            // No response was started for this turn: it fails, and the next turn gets its chance.
            Captions.TurnFailed(turn, $"{code}: {message}");
            TurnFinished(turn);
            RequestNextResponse();
        }
        else if (item is not null)
        {
            // The server keeps the item (or never had it): stop tracking it; the next trim picks another.
            LogDeleteRefused(Logger, Language, item, code, message);
            ForgetItem(item, clientEventId);
        }
    }

    /// <summary>The turn a response answers: its <c>metadata.turn</c>, else the one turn asked for (under Gate).</summary>
    private string? TurnOf(string responseId, JsonElement? response)
    {
        if (_turnOfResponse.TryGetValue(responseId, out var known))
        {
            return known;
        }

        var named = response is { } r && r.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? Str(metadata, "turn")
            : null;
        var turn = named ?? _activeTurn;
        if (turn is not null)
        {
            _turnOfResponse[responseId] = turn;
        }

        return turn;
    }

    /// <summary>
    /// What a response for <paramref name="turn"/> sees: the newest translated turns with their answers (whole pairs,
    /// still in the conversation and not being deleted) within the conversation bound, then the turn itself (under Gate).
    /// </summary>
    private List<string> Context(string turn)
    {
        if (_withoutContext.Contains(turn))
        {
            return [turn];
        }

        var deleting = ItemsBeingDeleted();
        bool Present(string item) => _items.Contains(item) && !deleting.Contains(item);

        var pairs = new List<(string Turn, string Answer)>();
        var room = Options.MaxConversationItems - 1;
        for (var i = _translated.Count - 1; i >= 0 && room >= 2; i--)
        {
            var pair = _translated[i];
            if (Present(pair.Turn) && Present(pair.Answer))
            {
                pairs.Add(pair);
                room -= 2;
            }
        }

        var context = new List<string>(2 * pairs.Count + 1);
        for (var i = pairs.Count - 1; i >= 0; i--)
        {
            context.Add(pairs[i].Turn);
            context.Add(pairs[i].Answer);
        }

        context.Add(turn);
        return context;
    }

    /// <summary>Items a <c>conversation.item.delete</c> was sent for and not yet confirmed (under Gate).</summary>
    private HashSet<string> ItemsBeingDeleted() => _itemOfDeleteEvent.Values.ToHashSet(StringComparer.Ordinal);

    /// <summary>Adds a conversation item once, after <paramref name="previous"/> when known, else at the end (under Gate).</summary>
    private void AddItem(string id, string? previous)
    {
        if (_items.Contains(id))
        {
            return;
        }

        var at = previous is null ? -1 : _items.IndexOf(previous);
        if (at >= 0)
        {
            _items.Insert(at + 1, id);
        }
        else
        {
            _items.Add(id);
        }
    }

    /// <summary>Deletes the oldest items beyond the bound, skipping turns still waiting for their translation.</summary>
    private void TrimConversation()
    {
        var deletes = new List<(BinaryData Message, string EventId)>();
        lock (Gate)
        {
            var excess = _items.Count - _itemOfDeleteEvent.Count - Options.MaxConversationItems;
            var deleting = ItemsBeingDeleted();
            foreach (var item in _items)
            {
                if (excess <= 0)
                {
                    break;
                }

                if (deleting.Contains(item) || _activeOutputItems.Contains(item) || IsPendingTurn(item))
                {
                    continue;
                }

                var delete = Events.DeleteItem(item);
                _itemOfDeleteEvent[delete.EventId] = item;
                deletes.Add(delete);
                excess--;
            }

            if (deletes.Count > 0 && _deletesDone.Task.IsCompleted)
            {
                _deletesDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        foreach (var delete in deletes)
        {
            Enqueue(delete, "conversation.item.delete");
        }
    }

    /// <summary>An item left the conversation (deleted), or a delete for it was refused.</summary>
    private void ForgetItem(string item, string? eventId)
    {
        lock (Gate)
        {
            _items.Remove(item);
            var key = eventId ?? _itemOfDeleteEvent.FirstOrDefault(p => p.Value == item).Key;
            if (key is not null)
            {
                _itemOfDeleteEvent.Remove(key);
            }

            if (_itemOfDeleteEvent.Count == 0)
            {
                _deletesDone.TrySetResult();
            }
        }
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
