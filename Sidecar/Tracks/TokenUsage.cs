namespace CaptionSidecar.Tracks;

/// <summary>
/// What a track has been billed for so far, split the way the Realtime prices are quoted (per million tokens of each
/// kind; cached input is cheaper). Duration-billed transcription models (<c>whisper-1</c>) report seconds instead.
/// </summary>
public sealed record TokenUsage
{
    /// <summary>No usage yet.</summary>
    public static TokenUsage None { get; } = new();

    /// <summary>Audio input tokens not served from the cache.</summary>
    public long AudioInputTokens { get; init; }

    /// <summary>Audio input tokens served from the cache.</summary>
    public long CachedAudioInputTokens { get; init; }

    /// <summary>Text input tokens (instructions, earlier answers) not served from the cache.</summary>
    public long TextInputTokens { get; init; }

    /// <summary>Text input tokens served from the cache.</summary>
    public long CachedTextInputTokens { get; init; }

    /// <summary>Text output tokens (transcripts, translations).</summary>
    public long TextOutputTokens { get; init; }

    /// <summary>Audio seconds, for models billed by duration.</summary>
    public double AudioSeconds { get; init; }

    /// <summary>All tokens of every kind.</summary>
    public long TotalTokens => AudioInputTokens + CachedAudioInputTokens + TextInputTokens + CachedTextInputTokens + TextOutputTokens;

    /// <summary>The sum of two usages.</summary>
    public TokenUsage Add(TokenUsage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new TokenUsage
        {
            AudioInputTokens = AudioInputTokens + other.AudioInputTokens,
            CachedAudioInputTokens = CachedAudioInputTokens + other.CachedAudioInputTokens,
            TextInputTokens = TextInputTokens + other.TextInputTokens,
            CachedTextInputTokens = CachedTextInputTokens + other.CachedTextInputTokens,
            TextOutputTokens = TextOutputTokens + other.TextOutputTokens,
            AudioSeconds = AudioSeconds + other.AudioSeconds,
        };
    }
}
