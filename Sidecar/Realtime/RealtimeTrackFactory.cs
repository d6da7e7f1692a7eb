using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Realtime;

/// <summary>Makes the Realtime tracks: a transcription track for the source language.</summary>
internal sealed class RealtimeTrackFactory(
    IOptions<RealtimeOptions> options, IRealtimeConnector connector, ILoggerFactory loggers, TimeProvider time) : ILanguageTrackFactory
{
    public string EngineName => "openai";

    public bool UsesAudio => true;

    public ILanguageTrack Create(CaptionLanguage language)
    {
        ArgumentNullException.ThrowIfNull(language);
        if (!language.IsSource)
        {
            throw new NotSupportedException($"Caption language {language.Code} is a translation target; this build captions the source language only.");
        }

        return new RealtimeTranscriptionTrack(language, options.Value, connector, loggers.CreateLogger("CaptionSidecar.Realtime.Track"), time);
    }
}
