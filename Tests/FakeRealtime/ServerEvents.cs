using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>The input tokens of a response's prompt (instructions and context), and how many of them came from the prompt cache.</summary>
internal sealed record PromptUsage(int TextTokens, int AudioTokens, int CachedTextTokens, int CachedAudioTokens);

/// <summary>What a transcription is billed on: the committed turn's audio, and the session's transcription prompt and model then.</summary>
/// <param name="AudioMs">The committed audio of the turn, in milliseconds.</param>
/// <param name="Prompt">The transcription prompt, or null.</param>
/// <param name="Model">The transcription model, or null (billed like the gpt-4o transcribe models).</param>
internal sealed record TranscriptionBilling(long AudioMs, string? Prompt, string? Model);

/// <summary>Server events in the GA shapes of the reference (each with a fresh <c>event_…</c> id).</summary>
internal static class ServerEvents
{
    /// <summary>Audio input tokens per second of audio, as the service counts user audio (one per 100 ms).</summary>
    public const int AudioTokensPerSecond = 10;

    public static JsonObject SessionCreated(JsonObject session) => Event("session.created", new() { ["session"] = session });

    public static JsonObject SessionUpdated(JsonObject session) => Event("session.updated", new() { ["session"] = session });

    public static JsonObject TranscriptionSessionUpdated(JsonObject session) =>
        Event("transcription_session.updated", new() { ["session"] = session });

    public static JsonObject Error(ProtocolError error, string? clientEventId) => Event("error", new()
    {
        ["error"] = new JsonObject
        {
            ["type"] = error.Type,
            ["code"] = error.Code,
            ["message"] = error.Message,
            ["param"] = error.Param,
            ["event_id"] = clientEventId,
        },
    });

    public static JsonObject SpeechStarted(long audioStartMs, string itemId) =>
        Event("input_audio_buffer.speech_started", new() { ["audio_start_ms"] = audioStartMs, ["item_id"] = itemId });

    public static JsonObject SpeechStopped(long audioEndMs, string itemId) =>
        Event("input_audio_buffer.speech_stopped", new() { ["audio_end_ms"] = audioEndMs, ["item_id"] = itemId });

    public static JsonObject Committed(string? previousItemId, string itemId) =>
        Event("input_audio_buffer.committed", new() { ["previous_item_id"] = previousItemId, ["item_id"] = itemId });

    public static JsonObject Cleared() => Event("input_audio_buffer.cleared", []);

    public static JsonObject ItemAdded(string? previousItemId, string itemId) => UserAudioItem("conversation.item.added", previousItemId, itemId);

    public static JsonObject ItemDone(string? previousItemId, string itemId) => UserAudioItem("conversation.item.done", previousItemId, itemId);

    public static JsonObject TranscriptionDelta(string itemId, string delta) =>
        Event("conversation.item.input_audio_transcription.delta", new() { ["item_id"] = itemId, ["content_index"] = 0, ["delta"] = delta });

    public static JsonObject TranscriptionCompleted(string itemId, string transcript, long audioMs) =>
        TranscriptionCompleted(itemId, transcript, TranscriptionUsage(new TranscriptionBilling(audioMs, null, null), transcript));

    public static JsonObject TranscriptionCompleted(string itemId, string transcript, JsonObject usage) =>
        Event("conversation.item.input_audio_transcription.completed", new()
        {
            ["item_id"] = itemId,
            ["content_index"] = 0,
            ["transcript"] = transcript,
            ["usage"] = usage,
        });

    /// <summary>
    /// A transcription's <c>usage</c> as the service reports it (reference §5): <c>whisper-1</c> bills the turn's
    /// duration (<c>{"type":"duration","seconds":…}</c>); the gpt-4o transcribe models bill tokens: the turn's audio
    /// at <see cref="AudioTokensPerSecond"/>, the prompt as text tokens (about 4 characters each) and the transcript
    /// as output tokens.
    /// </summary>
    public static JsonObject TranscriptionUsage(TranscriptionBilling billing, string transcript)
    {
        if (billing.Model is { } model && model.StartsWith("whisper", StringComparison.OrdinalIgnoreCase))
        {
            return new JsonObject { ["type"] = "duration", ["seconds"] = Math.Round(billing.AudioMs / 1000.0, 3) };
        }

        var audioTokens = AudioTokens(billing.AudioMs);
        var promptTokens = string.IsNullOrEmpty(billing.Prompt) ? 0 : TextTokens(billing.Prompt);
        var outputTokens = TextTokens(transcript);
        return new JsonObject
        {
            ["type"] = "tokens",
            ["total_tokens"] = audioTokens + promptTokens + outputTokens,
            ["input_tokens"] = audioTokens + promptTokens,
            ["input_token_details"] = new JsonObject { ["text_tokens"] = promptTokens, ["audio_tokens"] = audioTokens },
            ["output_tokens"] = outputTokens,
        };
    }

    /// <summary>Audio input tokens of <paramref name="audioMs"/> of audio: the service's rate of one token per 100 ms (at least 1).</summary>
    public static int AudioTokens(long audioMs) => (int)Math.Max(1, audioMs * AudioTokensPerSecond / 1000);

    /// <summary>Text tokens of <paramref name="text"/>: about 4 characters each (at least 1).</summary>
    public static int TextTokens(string? text) => Math.Max(1, ((text?.Length ?? 0) + 3) / 4);

    public static JsonObject TranscriptionFailed(string itemId) => Event("conversation.item.input_audio_transcription.failed", new()
    {
        ["item_id"] = itemId,
        ["content_index"] = 0,
        ["error"] = new JsonObject
        {
            ["type"] = "transcription_error",
            ["code"] = "audio_unintelligible",
            ["message"] = "The audio could not be transcribed.",
            ["param"] = null,
        },
    });

    public static JsonObject RateLimitsUpdated() => Event("rate_limits.updated", new()
    {
        ["rate_limits"] = new JsonArray(
            new JsonObject { ["name"] = "requests", ["limit"] = 1000, ["remaining"] = 999, ["reset_seconds"] = 60 },
            new JsonObject { ["name"] = "tokens", ["limit"] = 50000, ["remaining"] = 49950, ["reset_seconds"] = 60 }),
    });

    public static JsonObject ItemDeleted(string itemId) => Event("conversation.item.deleted", new() { ["item_id"] = itemId });

    /// <summary>A <c>realtime.response</c> object as carried by <c>response.created</c> and <c>response.done</c>.</summary>
    public static JsonObject Response(string id, string status, JsonNode? statusDetails, JsonArray output, string? conversationId, JsonNode? usage, JsonObject? metadata) => new()
    {
        ["object"] = "realtime.response",
        ["id"] = id,
        ["status"] = status,
        ["status_details"] = statusDetails,
        ["output"] = output,
        ["conversation_id"] = conversationId,
        ["output_modalities"] = new JsonArray("text"),
        ["max_output_tokens"] = "inf",
        ["usage"] = usage,
        ["metadata"] = metadata?.DeepClone(),
    };

    public static JsonObject ResponseCreated(JsonObject response) => Event("response.created", new() { ["response"] = response });

    public static JsonObject ResponseDone(JsonObject response) => Event("response.done", new() { ["response"] = response });

    /// <summary>An assistant message item; content is empty while in progress.</summary>
    public static JsonObject AssistantItem(string itemId, string status, string? text) => new()
    {
        ["id"] = itemId,
        ["object"] = "realtime.item",
        ["type"] = "message",
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = text is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text }),
    };

    public static JsonObject OutputItem(string type, string responseId, JsonObject item) =>
        Event(type, new() { ["response_id"] = responseId, ["output_index"] = 0, ["item"] = item });

    public static JsonObject ConversationItem(string type, string? previousItemId, JsonObject item) =>
        Event(type, new() { ["previous_item_id"] = previousItemId, ["item"] = item });

    public static JsonObject ContentPart(string type, string responseId, string itemId, string text) => Event(type, new()
    {
        ["response_id"] = responseId,
        ["item_id"] = itemId,
        ["output_index"] = 0,
        ["content_index"] = 0,
        ["part"] = new JsonObject { ["type"] = "text", ["text"] = text },
    });

    public static JsonObject OutputTextDelta(string responseId, string itemId, string delta) => Event("response.output_text.delta", new()
    {
        ["response_id"] = responseId, ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["delta"] = delta,
    });

    public static JsonObject OutputTextDone(string responseId, string itemId, string text) => Event("response.output_text.done", new()
    {
        ["response_id"] = responseId, ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["text"] = text,
    });

    /// <summary>
    /// A response's <c>usage</c> in the service's shape: the prompt's text and audio tokens (with the cached part in
    /// <c>cached_tokens_details</c>) in, about 4 characters per output token out.
    /// </summary>
    public static JsonObject ResponseUsage(PromptUsage prompt, string text)
    {
        var outputTokens = TextTokens(text);
        var inputTokens = prompt.TextTokens + prompt.AudioTokens;
        return new JsonObject
        {
            ["total_tokens"] = inputTokens + outputTokens,
            ["input_tokens"] = inputTokens,
            ["output_tokens"] = outputTokens,
            ["input_token_details"] = new JsonObject
            {
                ["text_tokens"] = prompt.TextTokens, ["audio_tokens"] = prompt.AudioTokens, ["image_tokens"] = 0,
                ["cached_tokens"] = prompt.CachedTextTokens + prompt.CachedAudioTokens,
                ["cached_tokens_details"] = new JsonObject { ["text_tokens"] = prompt.CachedTextTokens, ["audio_tokens"] = prompt.CachedAudioTokens, ["image_tokens"] = 0 },
            },
            ["output_token_details"] = new JsonObject { ["text_tokens"] = outputTokens, ["audio_tokens"] = 0 },
        };
    }

    /// <summary>A completed message item a client created, with its content as echoed (no audio bytes).</summary>
    public static JsonObject MessageItem(string itemId, string role, JsonArray content) => new()
    {
        ["id"] = itemId,
        ["object"] = "realtime.item",
        ["type"] = "message",
        ["status"] = "completed",
        ["role"] = role,
        ["content"] = content,
    };

    private static JsonObject UserAudioItem(string type, string? previousItemId, string itemId) => Event(type, new()
    {
        ["previous_item_id"] = previousItemId,
        ["item"] = new JsonObject
        {
            ["id"] = itemId,
            ["object"] = "realtime.item",
            ["type"] = "message",
            ["status"] = "completed",
            ["role"] = "user",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "input_audio", ["transcript"] = null }),
        },
    });

    private static JsonObject Event(string type, JsonObject fields)
    {
        var evt = new JsonObject { ["type"] = type, ["event_id"] = RealtimeIds.Event() };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            evt[key] = value;
        }

        return evt;
    }
}
