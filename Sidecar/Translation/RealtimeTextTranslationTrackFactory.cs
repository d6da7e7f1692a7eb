using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Translation;

/// <summary>Makes the Realtime engine's text translation tracks (<see cref="RealtimeTextTranslationTrack"/>), one per target language.</summary>
internal sealed class RealtimeTextTranslationTrackFactory(
    IOptions<RealtimeOptions> options, IRealtimeConnector connector, ILoggerFactory loggers, TimeProvider time, GlossarySource? glossary = null) : ITextTranslationTrackFactory
{
    public ITextTranslationTrack Create(CaptionLanguage target, bool realTime = true)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new RealtimeTextTranslationTrack(target, options.Value, connector, loggers.CreateLogger("CaptionSidecar.Translation.TextTrack"), time, glossary, lagLimit: realTime);
    }
}
