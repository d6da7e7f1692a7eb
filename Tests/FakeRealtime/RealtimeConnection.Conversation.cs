using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The conversation side of a session: the default conversation's items (committed audio turns, message items the
/// client creates, answers) and text-only responses that "translate" the last user message of their context: a text
/// message by its script row in the target language's column, an audio turn with the column's next line. A
/// response's first events are queued from the receive loop (so its state is settled before the next client event is
/// read); its words stream beside it.
/// </summary>
internal sealed partial class RealtimeConnection
{
    private readonly Lock _conversationGate = new();
    private readonly List<string> _items = [];
    private readonly Dictionary<string, ItemContent> _contents = new(StringComparer.Ordinal);
    private List<PromptPart> _previousPrompt = [];
    private readonly Dictionary<string, ActiveResponse> _responses = [];
    private readonly string _conversationId = RealtimeIds.Conversation();
    private string? _lastItemId;
    private ActiveResponse? _defaultResponse;
    private int _queuedTurnResponses;

    /// <summary>Appends an item to the default conversation (transcription sessions keep only the last id); returns the previous item's id.</summary>
    private string? AppendConversationItem(string itemId, ItemContent content)
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
            _contents[itemId] = content;
            count = _items.Count;
        }

        Session.RecordConversationItemCount(count);
        return previous;
    }

    /// <summary>
    /// <c>conversation.item.create</c> of a message (user text or audio, system text, assistant text): placed after
    /// <c>previous_item_id</c> (absent: at the end; <c>root</c>: first), answered with <c>conversation.item.added</c>
    /// and <c>conversation.item.done</c>. Creates no response, like the service.
    /// </summary>
    private void CreateItem(JsonNode? itemNode, JsonObject evt, string? eventId)
    {
        var (content, echo, error) = ConversationItems.Parse(itemNode, "item");
        if (error is not null)
        {
            _ = SendError(error, eventId);
            return;
        }

        var givenId = itemNode!["id"];
        var previousNode = evt["previous_item_id"];
        if ((givenId is not null && givenId.GetValueKind() != JsonValueKind.String) || (previousNode is not null && previousNode.GetValueKind() != JsonValueKind.String))
        {
            var param = givenId is not null && givenId.GetValueKind() != JsonValueKind.String ? "item.id" : "previous_item_id";
            _ = SendError(new ProtocolError("invalid_type", $"Invalid type for '{param}': expected a string.", param), eventId);
            return;
        }

        var itemId = givenId?.GetValue<string>() ?? RealtimeIds.Item();
        var after = previousNode?.GetValue<string>();
        string? previous = null;
        int count;
        lock (_conversationGate)
        {
            var at = after is null ? _items.Count : after == "root" ? 0 : _items.IndexOf(after) is var found and >= 0 ? found + 1 : -1;
            if (_contents.ContainsKey(itemId))
            {
                error = new ProtocolError("invalid_value", $"Invalid 'item.id': an item with id '{itemId}' already exists in the conversation.", "item.id");
            }
            else if (at < 0)
            {
                error = new ProtocolError("invalid_value", $"Invalid 'previous_item_id': no item with id '{after}' exists in the conversation.", "previous_item_id");
            }
            else
            {
                previous = at > 0 ? _items[at - 1] : null;
                _items.Insert(at, itemId);
                _contents[itemId] = content!;
            }

            count = _items.Count;
        }

        if (error is not null)
        {
            _ = SendError(error, eventId);
            return;
        }

        Session.RecordConversationItemCount(count);
        Log.ItemCreated(_logger, Session.Id, itemId, content!.Role, content.Text?.Length ?? 0);
        _ = Send(ServerEvents.ConversationItem("conversation.item.added", previous, ServerEvents.MessageItem(itemId, content.Role, echo!)));
        _ = Send(ServerEvents.ConversationItem("conversation.item.done", previous, ServerEvents.MessageItem(itemId, content.Role, (JsonArray)echo!.DeepClone())));
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
                _contents.Remove(itemId);
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
        var response = new ActiveResponse(RealtimeIds.Response(), RealtimeIds.Item(), isDefault, options?["metadata"] as JsonObject);
        if (options?["input"] is { } inputNode && inputNode is not JsonArray)
        {
            _ = SendError(new ProtocolError("invalid_type", "Invalid type for 'response.input': expected an array.", "response.input"), eventId);
            return;
        }

        var input = options?["input"] as JsonArray;
        ActiveResponse? blocking;
        string? previous = null;
        string[] conversationNow;
        Dictionary<string, ItemContent> contentsNow;
        lock (_conversationGate)
        {
            conversationNow = [.. _items];
            contentsNow = new Dictionary<string, ItemContent>(_contents, StringComparer.Ordinal);
        }

        // The response's context, in order: referenced or inline items, or (no input) the whole default conversation.
        var context = new List<PromptPart>();
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
                var (inline, _, inlineError) = ConversationItems.Parse(entry, $"response.input[{n}]");
                if (inlineError is not null)
                {
                    _ = SendError(inlineError, eventId);
                    return;
                }

                context.Add(PromptPart.Of($"inline:{inline!.Role}:{inline.Text}", inline));
                continue;
            }

            var id = entry["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var referenced) ? referenced : null;
            if (id is null || !conversationNow.Contains(id, StringComparer.Ordinal))
            {
                _ = SendError(new ProtocolError("invalid_value", $"Invalid 'response.input[{n}].id': no item with id '{id}' exists in the conversation.", $"response.input[{n}].id"), eventId);
                return;
            }

            references.Add(id);
            context.Add(PromptPart.Of(id, contentsNow[id]));
        }

        if (input is null)
        {
            context.AddRange(conversationNow.Select(id => PromptPart.Of(id, contentsNow[id])));
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
        }

        if (blocking is not null)
        {
            _ = SendError(new ProtocolError("conversation_already_has_active_response", $"Conversation already has an active response in progress: {blocking.Id}. Wait until the response is finished before creating a new one."), eventId);
            return;
        }

        var turn = options?["metadata"]?["turn"] is JsonValue turnValue && turnValue.TryGetValue<string>(out var named) ? named : null;

        // A response answers the last user message of its context: text is translated by script row, audio takes the
        // language's next line (the audio-driven translation of before).
        var source = context.LastOrDefault(p => p.Content.Role == "user")?.Content.Text;
        Session.RecordResponseRequest(new FakeResponseRequest(turn, input is null ? null : references, conversationNow)
        {
            SourceText = source,
            ContextTexts = [.. context.Select(p => p.Content.Text)],
        });
        var language = TargetLanguage(instructions);
        var text = source is not null ? Translate(source, language) : _options.Script.TakeNext(language ?? "").Text;
        var prompt = PromptTokens(instructions, context);
        Log.ResponseStarted(_logger, Session.Id, response.Id, language ?? "(none)", conversation);

        _ = Send(ServerEvents.ResponseCreated(response.Snapshot("in_progress", null, [], isDefault ? _conversationId : null, null)));
        _ = Send(ServerEvents.RateLimitsUpdated());
        _ = Send(ServerEvents.OutputItem("response.output_item.added", response.Id, ServerEvents.AssistantItem(response.ItemId, "in_progress", null)));
        if (isDefault)
        {
            previous = AppendConversationItem(response.ItemId, new ItemContent("assistant", null, 0));
            _ = Send(ServerEvents.ConversationItem("conversation.item.added", previous, ServerEvents.AssistantItem(response.ItemId, "in_progress", null)));
        }

        _ = Send(ServerEvents.ContentPart("response.content_part.added", response.Id, response.ItemId, ""));
        _ = StreamResponseAsync(response, text, previous, prompt, _lifetime.Token);
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
    private async Task StreamResponseAsync(ActiveResponse response, string text, string? previousItemId, PromptUsage prompt, CancellationToken sessionEnded)
    {
        var produced = new StringBuilder();
        try
        {
            // A held answer (FakeFaults.HoldAnswer) sends nothing until it is released or cancelled.
            await Task.WhenAny(_stalls.WhenAnswerReleasedAsync(text, sessionEnded), response.CancelRequested.Task);
            sessionEnded.ThrowIfCancellationRequested();
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
        if (response.IsDefault)
        {
            lock (_conversationGate)
            {
                if (_contents.ContainsKey(response.ItemId))
                {
                    _contents[response.ItemId] = new ItemContent("assistant", final, 0);
                }
            }
        }

        var usage = ServerEvents.ResponseUsage(prompt, final);
        Session.RecordUsage(usage);
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
            if (HasColumn(named.Groups[1].Value))
            {
                return named.Groups[1].Value;
            }
        }

        foreach (Match into in IntoLanguage().Matches(instructions))
        {
            if (HasColumn(into.Groups[1].Value))
            {
                return into.Groups[1].Value;
            }
        }

        return _options.Script.DefaultTargetLanguage;
    }

    private bool HasColumn(string language) => SpeakerScriptChoice.All(_options).Any(s => s.HasColumn(language));

    /// <summary>The script line of <paramref name="language"/> whose source is <paramref name="source"/>, else <c>[xx] source</c> (logged).</summary>
    private string Translate(string source, string? language)
    {
        foreach (var script in SpeakerScriptChoice.All(_options))
        {
            if (language is not null && script.TryTranslate(source, language, out var line))
            {
                return line;
            }
        }

        var fallback = $"[{language ?? "?"}] {source.Trim()}";
        Log.UnscriptedSource(_logger, Session.Id, source, language ?? "(none)", fallback);
        return fallback;
    }

    /// <summary>
    /// The input tokens of a response: instructions and context items (see <see cref="PromptPart.Of"/>), and the part
    /// served from the prompt cache. Like the service's prompt caching, a prompt of at least
    /// 1,024 tokens reuses the prefix it shares with the session's previous response (the same instructions, then
    /// the same items in the same order), in steps of 128 tokens; shorter prompts are never cached.
    /// </summary>
    private PromptUsage PromptTokens(string instructions, List<PromptPart> context)
    {
        List<PromptPart> parts = [PromptPart.Of("instructions:" + instructions, new ItemContent("system", instructions, 0)), .. context];
        List<PromptPart> previous;
        lock (_conversationGate)
        {
            previous = _previousPrompt;
            _previousPrompt = parts;
        }

        var shared = 0;
        while (shared < parts.Count && shared < previous.Count && parts[shared].Key == previous[shared].Key)
        {
            shared++;
        }

        var total = parts.Sum(p => p.Tokens);
        var cacheable = parts.Take(shared).Sum(p => p.Tokens) / 128 * 128;
        var cached = total >= 1024 && cacheable >= 1024 ? cacheable : 0;
        int cachedText = 0, cachedAudio = 0;
        foreach (var part in parts.Take(shared))
        {
            var take = Math.Min(part.Tokens, cached - cachedText - cachedAudio);
            cachedText += part.Audio ? 0 : take;
            cachedAudio += part.Audio ? take : 0;
        }

        return new PromptUsage(parts.Where(p => !p.Audio).Sum(p => p.Tokens), parts.Where(p => p.Audio).Sum(p => p.Tokens), cachedText, cachedAudio);
    }

    [GeneratedRegex(@"\[lang:\s*([A-Za-z0-9-]+)\s*\]", RegexOptions.IgnoreCase)]
    private static partial Regex LanguageMarker();

    [GeneratedRegex(@"\binto\s+[^.()\n]{1,40}\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)", RegexOptions.IgnoreCase)]
    private static partial Regex IntoNamedLanguage();

    [GeneratedRegex(@"\binto\s+([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\b", RegexOptions.IgnoreCase)]
    private static partial Regex IntoLanguage();

    /// <summary>One part of a response's prompt: its identity for the prompt cache, its tokens (audio or text), the item.</summary>
    private sealed record PromptPart(string Key, int Tokens, bool Audio, ItemContent Content)
    {
        /// <summary>
        /// An item's part as the service bills it: an item holding audio (a committed turn, or input_audio a client
        /// sent) its audio's <see cref="ServerEvents.AudioTokensPerSecond"/>, so an audio translation pays for every
        /// second of every turn in its context again; any other item its text's tokens (about 4 characters each), an
        /// answer included.
        /// </summary>
        public static PromptPart Of(string key, ItemContent content) => content switch
        {
            { AudioMs: > 0, Text: null } => new PromptPart(key, ServerEvents.AudioTokens(content.AudioMs), Audio: true, content),
            _ => new PromptPart(key, ServerEvents.TextTokens(content.Text), Audio: false, content),
        };
    }

    private sealed class ActiveResponse(string id, string itemId, bool isDefault, JsonObject? metadata)
    {
        public string Id { get; } = id;

        public string ItemId { get; } = itemId;

        public bool IsDefault { get; } = isDefault;

        public TaskCompletionSource CancelRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public JsonObject Snapshot(string status, JsonNode? details, JsonArray output, string? conversationId, JsonNode? usage) =>
            ServerEvents.Response(Id, status, details, output, conversationId, usage, metadata);
    }
}
