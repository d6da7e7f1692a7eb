using CaptionSidecar.Realtime;

namespace CaptionSidecar.Hosting;

/// <summary>Which engine runs, and why (shown on the console at start).</summary>
/// <param name="Engine"><see cref="OpenAi"/> or <see cref="TestPattern"/>.</param>
/// <param name="Reason">One sentence for the streamer, or null when the engine was asked for explicitly.</param>
public sealed record EngineChoice(string Engine, string? Reason)
{
    public const string OpenAi = "openai";
    public const string TestPattern = "test-pattern";

    /// <summary>Applies the <c>auto</c> rule: openai when a key is configured, else the test pattern.</summary>
    public static EngineChoice Resolve(SidecarOptions sidecar, RealtimeOptions realtime)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        ArgumentNullException.ThrowIfNull(realtime);
        return sidecar.Engine switch
        {
            OpenAi => new(OpenAi, null),
            TestPattern => new(TestPattern, null),
            _ when !string.IsNullOrWhiteSpace(realtime.ApiKey) => new(OpenAi, null),
            _ => new(TestPattern,
                "No API key is set, so CaptionSidecar runs its test pattern: sample captions labelled [TEST], to set up and style " +
                "the outputs. To caption live speech, set OPENAI_API_KEY (or pass --api-key) and start again."),
        };
    }
}
