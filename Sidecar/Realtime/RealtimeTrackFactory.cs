// PLACEHOLDER (contract only): replaced by the Realtime track.
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

internal sealed class RealtimeTrackFactory : ILanguageTrackFactory
{
    public string EngineName => "openai";

    public bool UsesAudio => true;

    public ILanguageTrack Create(CaptionLanguage language) => throw new NotImplementedException();
}
