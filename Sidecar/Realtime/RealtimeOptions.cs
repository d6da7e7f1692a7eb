using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Realtime;

/// <summary>How turns are detected in a Realtime session.</summary>
public enum TurnDetectionMode
{
    /// <summary>The model decides when a sentence ends (default).</summary>
    SemanticVad,

    /// <summary>Silence of <see cref="RealtimeOptions.SilenceDurationMs"/> ends a turn.</summary>
    ServerVad,

    /// <summary>No server VAD: the client commits turns itself.</summary>
    Manual,
}

/// <summary>What translation sessions work from.</summary>
public enum TranslationSource
{
    /// <summary>
    /// The default: each target language translates the final text of the source lines in a text-only conversation
    /// session; audio is heard once per speaker, by the transcription session.
    /// </summary>
    Text,

    /// <summary>Each target language hears the audio itself in its own conversation session (the behaviour before text translation).</summary>
    Audio,
}

/// <summary>How to reach the Realtime service and configure its sessions. Bound from the <c>Realtime</c> section.</summary>
public sealed class RealtimeOptions
{
    public const string Section = "Realtime";

    /// <summary>The API root, for example <c>https://api.openai.com/v1</c>, an Azure <c>https://NAME.openai.azure.com/openai/v1</c>, or a compatible server.</summary>
    [Required]
    public Uri Endpoint { get; set; } = new("https://api.openai.com/v1");

    /// <summary>The API key. Prefer the <c>OPENAI_API_KEY</c> environment variable. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Transcription model for the source language. Default <c>gpt-4o-transcribe</c>.</summary>
    [Required]
    public string TranscribeModel { get; set; } = "gpt-4o-transcribe";

    /// <summary>
    /// Realtime conversation model for translation targets (the <c>?model=</c> of their sessions; on Azure, the
    /// deployment name). Default <c>gpt-realtime</c>.
    /// </summary>
    [Required]
    public string TranslateModel { get; set; } = "gpt-realtime";

    /// <summary>What translations work from: the source lines' text (default) or the audio.</summary>
    public TranslationSource TranslateFrom { get; set; } = TranslationSource.Text;

    /// <summary>
    /// Realtime model of the text-only translation sessions (<see cref="TranslationSource.Text"/>). Default
    /// <c>gpt-realtime-mini</c> (see the README's cost table for why).
    /// </summary>
    [Required]
    public string TextTranslateModel { get; set; } = "gpt-realtime-mini";

    /// <summary>
    /// Seconds a text translation may fall behind its source line becoming final before it is skipped (counted in
    /// status) rather than shown late. Default 10.
    /// </summary>
    [Range(1, 600, ErrorMessage = "Realtime:TranslationLagSeconds must be between 1 and 600 seconds (default 10).")]
    public double TranslationLagSeconds { get; set; } = 10;

    /// <summary>Most output tokens one translation (one turn) may use; bounds the cost of a runaway answer. Default 256.</summary>
    [Range(1, 4096)]
    public int MaxOutputTokens { get; set; } = 256;

    /// <summary>
    /// Most items a translation session's conversation keeps as context (a turn is two: the speech and its
    /// translation); older items are deleted so the cost per turn stays flat. Default 6 (the last three turns).
    /// </summary>
    [Range(2, 200)]
    public int MaxConversationItems { get; set; } = 6;

    /// <summary>Source language hint (ISO 639-1), also the source caption language code. Default <c>en</c>.</summary>
    [Required, RegularExpression("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", ErrorMessage = "Language must be an ISO 639-1 code such as 'en' or 'pt-BR'.")]
    public string Language { get; set; } = "en";

    /// <summary>Vocabulary hint for transcription (names, game terms); translation tracks keep these terms as they are. At most 1024 characters.</summary>
    [MaxLength(1024)]
    public string? Prompt { get; set; }

    /// <summary>
    /// A glossary file (see <see cref="Glossaries.Glossary"/>): its terms join <see cref="Prompt"/> in the transcription
    /// prompt and every translation keeps them (or uses their fixed translations). Re-read when it changes. Relative
    /// paths are relative to the current folder. Null: no glossary.
    /// </summary>
    public string? GlossaryFile { get; set; }

    /// <summary>Turn detection. Default semantic VAD.</summary>
    public TurnDetectionMode TurnDetection { get; set; } = TurnDetectionMode.SemanticVad;

    /// <summary>Semantic VAD eagerness: low, medium, high or auto. Default auto.</summary>
    [RegularExpression("^(low|medium|high|auto)$")]
    public string Eagerness { get; set; } = "auto";

    /// <summary>Server VAD: silence that ends a turn, in ms. Default 500.</summary>
    [Range(100, 5000)]
    public int SilenceDurationMs { get; set; } = 500;

    /// <summary>Server VAD threshold 0..1. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double VadThreshold { get; set; } = 0.5;

    /// <summary>Noise reduction: near_field, far_field or none. Default near_field.</summary>
    [RegularExpression("^(near_field|far_field|none)$")]
    public string NoiseReduction { get; set; } = "near_field";

    /// <summary>Seconds to wait for pending turns to finish at the end of file input. Default 20.</summary>
    [Range(1, 600)]
    public int DrainTimeoutSeconds { get; set; } = 20;

    /// <summary>
    /// Seconds of the most recent audio kept to replay into a new session after a reconnect (only audio after the
    /// last finished turn is replayed, so no line is captioned twice). A track never runs further ahead of its oldest
    /// unanswered turn than this, so a long sentence or a slow answer is still heard again in full. Default 60
    /// (about 2.9 MB of memory per language); 0 replays nothing.
    /// </summary>
    [Range(0, 600)]
    public double ReplaySeconds { get; set; } = 60;

    /// <summary>Manual turn detection: seconds of audio per committed turn. Default 3.</summary>
    [Range(0.5, 60)]
    public double ManualCommitSeconds { get; set; } = 3;

    /// <summary>Seconds to wait for the server's first event and for the session configuration to be accepted. Default 15.</summary>
    [Range(1, 120)]
    public int HandshakeTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Minutes after which a session is replaced by a fresh one before the service's session limit (60 minutes): the
    /// next session is opened while this one still runs and takes over at a pause between turns, so captions never
    /// stop. A session whose <c>expires_at</c> leaves less room is replaced earlier. Default 55; 0 turns rollover off
    /// (a session then runs until the service ends it, and the track reconnects and replays).
    /// </summary>
    [Range(0, 600, ErrorMessage = "Realtime:RolloverAfterMinutes must be between 0 (rollover off) and 600 minutes; the service ends a session after 60, so keep it below that (default 55).")]
    public double RolloverAfterMinutes { get; set; } = 55;

    /// <summary>
    /// Seconds a session may leave committed turns without any text before the track replaces it (reconnect and
    /// replay of the unanswered audio, as after a lost connection). Default 20; 0 turns the watchdog off. The replay
    /// buffer also keeps this much audio, so the turns given up on can be heard again.
    /// </summary>
    [Range(0, 600, ErrorMessage = "Realtime:WatchdogSeconds must be between 0 (watchdog off) and 600 seconds (default 20).")]
    public int WatchdogSeconds { get; set; } = 20;

    /// <summary>Longest wait between two connection attempts, in seconds (backoff is exponential with jitter up to this). Default 30.</summary>
    [Range(1, 600)]
    public int MaxRetryDelaySeconds { get; set; } = 30;

    /// <summary>
    /// Largest message accepted from the Realtime server, in bytes. The service's largest events are a few kilobytes
    /// (<c>session.created</c>, <c>response.done</c>); a larger message is skipped with a warning and the session
    /// carries on, so a misbehaving server cannot make the sidecar buffer without limit. Default 8 MiB: a message up
    /// to that is still read, so a turn whose text is merely far too long keeps its sentence (the caption track cuts
    /// the excess, <c>Captions:MaxTurnCharacters</c>) rather than losing it whole.
    /// </summary>
    [Range(64 * 1024, 256 * 1024 * 1024, ErrorMessage = "Realtime:MaxServerMessageBytes must be between 65536 (64 KiB) and 268435456 (256 MiB) bytes (default 8388608, 8 MiB).")]
    public int MaxServerMessageBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The speaker a transcription session hears, named at the end of its prompt (<c>Speaker: NAME.</c>) so the model
    /// spells the name right when it is said; null for the unnamed speaker. Set per speaker, never from configuration.
    /// </summary>
    internal string? SpeakerName { get; private set; }

    /// <summary>These options for a transcription session of <paramref name="speakerName"/> (null: unnamed), who speaks <paramref name="language"/>.</summary>
    internal RealtimeOptions ForSpeaker(string language, string? speakerName)
    {
        var copy = (RealtimeOptions)MemberwiseClone();
        copy.Language = language;
        copy.SpeakerName = speakerName;
        return copy;
    }

    /// <summary>
    /// The silence after speech that makes the server's VAD end a turn, with a margin: server VAD
    /// <see cref="SilenceDurationMs"/> + 500 ms; semantic VAD 2.5 / 4.5 / 8.5 s for high / medium or auto / low
    /// eagerness (its longest waits are 2, 4 and 8 s). A session appends it at the end of input; the voice gate keeps
    /// sending this long after voice ends.
    /// </summary>
    public TimeSpan TurnEndingSilence => TurnDetection switch
    {
        TurnDetectionMode.ServerVad => TimeSpan.FromMilliseconds(SilenceDurationMs + 500),
        _ => Eagerness switch
        {
            "high" => TimeSpan.FromSeconds(2.5),
            "low" => TimeSpan.FromSeconds(8.5),
            _ => TimeSpan.FromSeconds(4.5),
        },
    };
}
