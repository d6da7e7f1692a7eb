using System.Text.Json;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>Reads the <c>usage</c> objects of Realtime server events into <see cref="TokenUsage"/>.</summary>
internal static class RealtimeUsage
{
    /// <summary>
    /// The <c>response.usage</c> of <c>response.done</c>: input split into audio and text, each into the part served
    /// from the cache (<c>cached_tokens_details</c>) and the rest; output text tokens (all output tokens when the
    /// details are missing, since a text-only session produces nothing else).
    /// </summary>
    public static TokenUsage FromResponse(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return TokenUsage.None;
        }

        var input = Child(usage, "input_token_details");
        var cached = input is { } i ? Child(i, "cached_tokens_details") : null;
        var audio = input is { } a ? Num(a, "audio_tokens") : 0;
        var text = input is { } t ? Num(t, "text_tokens") : Num(usage, "input_tokens");
        var cachedAudio = cached is { } ca ? Num(ca, "audio_tokens") : 0;
        var cachedText = cached is { } ct ? Num(ct, "text_tokens") : input is { } c ? Num(c, "cached_tokens") : 0;
        var output = Child(usage, "output_token_details") is { } o ? Num(o, "text_tokens") : Num(usage, "output_tokens");
        return new TokenUsage
        {
            AudioInputTokens = Math.Max(0, audio - cachedAudio),
            CachedAudioInputTokens = cachedAudio,
            TextInputTokens = Math.Max(0, text - cachedText),
            CachedTextInputTokens = cachedText,
            TextOutputTokens = output,
        };
    }

    /// <summary>
    /// The <c>usage</c> of <c>conversation.item.input_audio_transcription.completed</c>: <c>type:"tokens"</c>
    /// (input split into audio and text; all input counted as audio when the details are missing) or
    /// <c>type:"duration"</c> (seconds of audio, for models billed by time).
    /// </summary>
    public static TokenUsage FromTranscription(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return TokenUsage.None;
        }

        if (Str(usage, "type") == "duration")
        {
            return new TokenUsage
            {
                AudioSeconds = usage.TryGetProperty("seconds", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0,
            };
        }

        var input = Child(usage, "input_token_details");
        return new TokenUsage
        {
            AudioInputTokens = input is { } a ? Num(a, "audio_tokens") : Num(usage, "input_tokens"),
            TextInputTokens = input is { } t ? Num(t, "text_tokens") : 0,
            TextOutputTokens = Num(usage, "output_tokens"),
        };
    }

    private static JsonElement? Child(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;
}
