// PLACEHOLDER (contract only): the outputs helper replaces this file.
using CaptionSidecar.Tracks;

namespace CaptionSidecar.TestPattern;

internal sealed class TestPatternTrackFactory : ILanguageTrackFactory
{
    public TestPatternTrackFactory(TimeProvider time)
    {
        throw new NotImplementedException();
    }

    public string EngineName => "test-pattern";

    public bool UsesAudio => false;

    public ILanguageTrack Create(CaptionLanguage language) => throw new NotImplementedException();
}
