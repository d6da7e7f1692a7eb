using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.TestPattern;

/// <summary>
/// The engine used without an API key: each language speaks labelled sample captions at a natural pace, through
/// the same caption calls a real engine makes, so outputs can be set up (position, style, wrapping, clearing)
/// before going live.
/// </summary>
internal sealed class TestPatternTrackFactory : ILanguageTrackFactory
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _longPause;
    private readonly ILoggerFactory _loggers;

    public TestPatternTrackFactory(TimeProvider time, IOptions<CaptionOptions> options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _time = time;
        _longPause = TestPatternTrack.LongPauseFor(options.Value.ClearAfterSeconds);
        _loggers = loggers;
    }

    public string EngineName => "test-pattern";

    public bool UsesAudio => false;

    public ILanguageTrack Create(CaptionLanguage language, Speakers.Speaker? speaker = null)
    {
        ArgumentNullException.ThrowIfNull(language);
        return new TestPatternTrack(language, TestPatternScript.For(language.Code), _longPause, _time, _loggers.CreateLogger<TestPatternTrack>());
    }
}
