using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The conversation side of a session: the default conversation's items and text-only responses that "translate"
/// each turn with the script line of the session's target language. A response's first events are queued from the
/// receive loop (so its state is settled before the next client event is read); its words stream beside it.
/// </summary>
internal sealed partial class RealtimeConnection
{
    private readonly Lock _conversationGate = new();
    private readonly List<string> _items = [];
    private readonly Dictionary<string, ActiveResponse> _responses = [];
    private readonly string _conversationId = RealtimeIds.Conversation();
    private string? _lastItemId;
    private ActiveResponse? _defaultResponse;
    private int _queuedTurnResponses;

    /// <summary>Appends an item to the default conversation (transcription sessions keep only the last id); returns the previous item's id.</summary>
    private string? AppendConversationItem(string itemId)
    {
        string? previous;
        int count;
        lock (_conversationGate)
        {
            if (_config.Type == FakeSessionType.Transcription)
            {
                previous = _lastItemId;
                _lastItemId = itemId;
                return previous;
            }

            previous = _items.Count > 0 ? _items[^1] : null;
            _items.Add(itemId);
            count = _items.Count;
        }

        Session.RecordConversationItemCount(count);
        return previous;
    }

    private void DeleteItem(JsonNode? itemIdNode, string? eventId)
    {
        if (itemIdNode is not JsonValue value || !value.TryGetValue<string>(out var itemId))
        {
            _ = SendError(new ProtocolError("missing_required_parameter", "Missing required parameter: 'item_id'.", "item_id"), eventId);
            return;
        }

        int count;
        lock (_conversationGate)
        {
            if (!_items.Remove(itemId))
            {
                count = -1;
            }
            else
            {
                count = _items.Count;
            }
        }

        if (count < 0)
        {
            _ = SendError(new ProtocolError("invalid_value", $"Error deleting item: the item with id '{itemId}' does not exist in the conversation.", "item_id"), eventId);
            return;
        }

        Session.RecordConversationItemCount(count);
        _ = Send(ServerEvents.ItemDeleted(itemId));
    }

    /// <summary>
    /// Starts a response. A turn's automatic response (<paramref name="forTurn"/>) that finds the default conversation
    /// busy waits for it instead of failing: the fake reads audio faster than real time, so turns can end while the
    /// previous answer is still streaming, and every turn must still get its line.
    /// </summary>
    private void CreateResponse(JsonNode? optionsNode, string? eventId, bool forTurn = false)
    {
        if (optionsNode is not (null or JsonObject))
        {
            _ = SendError(new ProtocolError("invalid_type", "Invalid type for 'response': expected an object.", "response"), eventId);
            return;
        }

        var options = optionsNode as JsonObject;
        var conversation = options?["conversation"] is JsonValue c && c.TryGetValue<string>(out var name) ? name : options?["conversation"]?.ToJsonString() ?? "auto";
        if (conversation is not ("auto" or "none"))
        {
            _ = SendError(new ProtocolError("invalid_value", $"Invalid value: '{conversation}'. Supported values are: 'auto' and 'none'.", "response.conversation"), eventId);
            return;
        }

        if (options?["metadata"] is { } metadataNode && metadataNode is not JsonObject)
        {
            _ = SendError(new ProtocolError("invalid_type", "Invalid type for 'response.metadata': expected an object of string pairs.", "response.metadata"), eventId);
            return;
        }

        var modalities = options?["output_modalities"] as JsonArray ?? _config.OutputModalities;
        if (modalities is null || modalities.Count != 1 || modalities[0]?.GetValueKind() != JsonValueKind.String || modalities[0]!.GetValue<string>() != "text")
        {
            _ = SendError(new ProtocolError("unsupported_by_fake", "The fake Realtime server answers with text only: set output_modalities to [\"text\"] (in the session or the response).", "response.output_modalities", "server_error"), eventId);
            return;
        }

        var instructions = options?["instructions"] is JsonValue i && i.TryGetValue<string>(out var given) ? given : _config.Instructions;
        var isDefault = conversation == "auto";
        var response = new ActiveResponse(RealtimeIds.Response(), RealtimeIds.Item(), isDefault, options?["metadata"] as JsonObject, instructions);
        if (options?["input"] is { } inputNode && inputNode is not JsonArray)
        {
            _ = SendError(new ProtocolError("invalid_type", "Invalid type for 'response.input': expected an array.", "response.input"), eventId);
            return;
        }

        var input = options?["input"] as JsonArray;
        ActiveResponse? blocking;
        string? previous = null;
        int contextItems;
        string[] conversationNow;
        lock (_conversationGate)
        {
            conversationNow = [.. _items];
        }

        var references = new List<string>();
        for (var n = 0; input is not null && n < input.Count; n++)
        {
            if (input[n] is not JsonObject entry || entry["type"] is not JsonValue type || !type.TryGetValue<string>(out var entryType))
            {
                _ = SendError(new ProtocolError("invalid_type", $"Invalid type for 'response.input[{n}]': expected an item or an item reference.", $"response.input[{n}]"), eventId);
                return;
            }

            if (entryType != "item_reference")
            {
                continue; // an inline item: context the fake does not read
            }

            var id = entry["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var referenced) ? referenced : null;
            if (id is null || !conversationNow.Contains(id, StringComparer.Ordinal))
            {
                _ = SendError(new ProtocolError("invalid_value", $"Invalid 'response.input[{n}].id': no item with id '{id}' exists in the conversation.", $"response.input[{n}].id"), eventId);
                return;
            }

            references.Add(id);
        }

        lock (_conversationGate)
        {
            blocking = isDefault ? _defaultResponse : null;
            if (blocking is not null && forTurn)
            {
                _queuedTurnResponses++;
                return;
            }

            if (blocking is null)
            {
                _responses[response.Id] = response;
                if (isDefault)
                {
                    _defaultResponse = response;
                }
            }

            contextItems = input?.Count ?? _items.Count;
        }

        if (blocking is not null)
        {
            _ = SendError(new ProtocolError("conversation_already_has_active_response", $"Conversation already has an active response in progress: {blocking.Id}. Wait until the response is finished before creating a new one."), eventId);
            return;
        }

        var turn = options?["metadata"]?["turn"] is JsonValue turnValue && turnValue.TryGetValue<string>(out var named) ? named : null;
        Session.RecordResponseRequest(new FakeResponseRequest(turn, input is null ? null : references, conversationNow));
        var language = TargetLanguage(instructions);
        var (_, text) = _options.Script.TakeNext(language ?? "");
        Log.ResponseStarted(_logger, Session.Id, response.Id, language ?? "(none)", conversation);

        _ = Send(ServerEvents.ResponseCreated(response.Snapshot("in_progress", null, [], isDefault ? _conversationId : null, null)));
        _ = Send(ServerEvents.RateLimitsUpdated());
        _ = Send(ServerEvents.OutputItem("response.output_item.added", response.Id, ServerEvents.AssistantItem(response.ItemId, "in_progress", null)));
        if (isDefault)
        {
            previous = AppendConversationItem(response.ItemId);
            _ = Send(ServerEvents.ConversationItem("conversation.item.added", previous, ServerEvents.AssistantItem(response.ItemId, "in_progress", null)));
        }

        _ = Send(ServerEvents.ContentPart("response.content_part.added", response.Id, response.ItemId, ""));
        _ = StreamResponseAsync(response, text, previous, contextItems, _lifetime.Token);
    }

    private void CancelResponse(JsonNode? responseIdNode, string? eventId)
    {
        var responseId = responseIdNode is JsonValue value && value.TryGetValue<string>(out var id) ? id : null;
        ActiveResponse? response;
        lock (_conversationGate)
        {
            response = responseId is null ? _defaultResponse : _responses.GetValueOrDefault(responseId);
        }

        if (response is null)
        {
            _ = SendError(new ProtocolError("response_cancel_not_active", "Cancellation failed: no active response found.", responseId is null ? null : "response_id"), eventId);
            return;
        }

        response.CancelRequested.TrySetResult();
    }

    /// <summary>Streams the line word by word, then closes the response; a cancel ends it after the words sent so far.</summary>
    private async Task StreamResponseAsync(ActiveResponse response, string text, string? previousItemId, int contextItems, CancellationToken sessionEnded)
    {
        var produced = new StringBuilder();
        try
        {
            foreach (Match word in WordWithLeadingSpace().Matches(text))
            {
                var delay = Task.Delay(_options.WordDelay, _options.TimeProvider, sessionEnded);
                await Task.WhenAny(delay, response.CancelRequested.Task);
                if (response.CancelRequested.Task.IsCompleted)
                {
                    break;
                }

                await delay;
                produced.Append(word.Value);
                await Send(ServerEvents.OutputTextDelta(response.Id, response.ItemId, word.Value));
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended mid-response; the real service drops it too.
            Finish(response);
            return;
        }

        // Unregistered before response.done is queued, so a client may create the next response as soon as it sees it.
        var cancelled = Finish(response);
        var final = produced.ToString();
        var itemStatus = cancelled ? "incomplete" : "completed";
        var item = ServerEvents.AssistantItem(response.ItemId, itemStatus, final);
        _ = Send(ServerEvents.OutputTextDone(response.Id, response.ItemId, final));
        _ = Send(ServerEvents.ContentPart("response.content_part.done", response.Id, response.ItemId, final));
        _ = Send(ServerEvents.OutputItem("response.output_item.done", response.Id, (JsonObject)item.DeepClone()));
        if (response.IsDefault)
        {
            _ = Send(ServerEvents.ConversationItem("conversation.item.done", previousItemId, (JsonObject)item.DeepClone()));
        }

        var details = cancelled ? new JsonObject { ["type"] = "cancelled", ["reason"] = "client_cancelled" } : null;
        var usage = ServerEvents.ResponseUsage(contextItems, response.Instructions, final);
        await Send(ServerEvents.ResponseDone(response.Snapshot(cancelled ? "cancelled" : "completed", details, new JsonArray(item), response.IsDefault ? _conversationId : null, usage)));
        if (response.IsDefault && TakeQueuedTurnResponse())
        {
            CreateResponse(null, null, forTurn: true);
        }
    }

    private bool TakeQueuedTurnResponse()
    {
        lock (_conversationGate)
        {
            if (_queuedTurnResponses == 0)
            {
                return false;
            }

            _queuedTurnResponses--;
            return true;
        }
    }

    /// <summary>Ends a response's active state; true when a cancel was asked for before it finished.</summary>
    private bool Finish(ActiveResponse response)
    {
        lock (_conversationGate)
        {
            _responses.Remove(response.Id);
            if (_defaultResponse == response)
            {
                _defaultResponse = null;
            }

            return response.CancelRequested.Task.IsCompleted;
        }
    }

    /// <summary>
    /// The language whose script column answers: a <c>[lang:xx]</c> marker in the instructions, else the first
    /// "into Name (xx)" (what the sidecar writes) or "into xx" naming a script column, else the script's first target column.
    /// </summary>
    private string? TargetLanguage(string instructions)
    {
        var marker = LanguageMarker().Match(instructions);
        if (marker.Success)
        {
            return marker.Groups[1].Value;
        }

        foreach (Match named in IntoNamedLanguage().Matches(instructions))
        {
            if (_options.Script.HasColumn(named.Groups[1].Value))
            {
                return named.Groups[1].Value;
            }
        }

        foreach (Match into in IntoLanguage().Matches(instructions))
        {
            if (_options.Script.HasColumn(into.Groups[1].Value))
            {
                return into.Groups[1].Value;
            }
        }

        return _options.Script.DefaultTargetLanguage;
    }

    [GeneratedRegex(@"\[lang:\s*([A-Za-z0-9-]+)\s*\]", RegexOptions.IgnoreCase)]
    private static partial Regex LanguageMarker();

    [GeneratedRegex(@"\binto\s+[^.()\n]{1,40}\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)", RegexOptions.IgnoreCase)]
    private static partial Regex IntoNamedLanguage();

    [GeneratedRegex(@"\binto\s+([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\b", RegexOptions.IgnoreCase)]
    private static partial Regex IntoLanguage();

    private sealed class ActiveResponse(string id, string itemId, bool isDefault, JsonObject? metadata, string instructions)
    {
        public string Id { get; } = id;

        public string ItemId { get; } = itemId;

        public bool IsDefault { get; } = isDefault;

        public string Instructions { get; } = instructions;

        public TaskCompletionSource CancelRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public JsonObject Snapshot(string status, JsonNode? details, JsonArray output, string? conversationId, JsonNode? usage) =>
            ServerEvents.Response(Id, status, details, output, conversationId, usage, metadata);
    }
}
