using CaptionSidecar.Glossaries;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Realtime;

/// <summary>Makes the Realtime tracks: a transcription track for the source language, a translation track for each target.</summary>
internal sealed class RealtimeTrackFactory(
    IOptions<RealtimeOptions> options, IRealtimeConnector connector, ILoggerFactory loggers, TimeProvider time, GlossarySource? glossary = null) : ILanguageTrackFactory
{
    public string EngineName => "openai";

    public bool UsesAudio => true;

    public ILanguageTrack Create(CaptionLanguage language, Speaker? speaker = null)
    {
        ArgumentNullException.ThrowIfNull(language);
        var logger = loggers.CreateLogger("CaptionSidecar.Realtime.Track");
        return language.IsSource
            ? new RealtimeTranscriptionTrack(language, options.Value.ForSpeaker(speaker?.Language ?? language.Code, speaker?.Name), connector, logger, time, glossary)
            : new RealtimeTranslationTrack(language, options.Value, connector, logger, time, glossary);
    }
}
