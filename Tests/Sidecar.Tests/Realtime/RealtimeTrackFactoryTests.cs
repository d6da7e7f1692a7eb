using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RealtimeTrackFactoryTests
{
    private readonly RealtimeTrackFactory _factory = new(
        Options.Create(new RealtimeOptions { ApiKey = "k", TranslateModel = "my-realtime-deployment" }),
        new ScriptedRealtimeConnector(), NullLoggerFactory.Instance, TimeProvider.System);

    [Fact]
    public void Create_SourceLanguage_MakesATranscriptionTrack()
    {
        var track = _factory.Create(new CaptionLanguage("en", IsSource: true));

        Assert.IsType<RealtimeTranscriptionTrack>(track);
        Assert.Equal("gpt-4o-transcribe", track.Status.Model);
    }

    [Fact]
    public void Create_TargetLanguage_MakesATranslationTrackOnTheTranslateModel()
    {
        var track = _factory.Create(new CaptionLanguage("es", IsSource: false));

        Assert.IsType<RealtimeTranslationTrack>(track);
        Assert.Equal("es", track.Language.Code);
        Assert.Equal("my-realtime-deployment", track.Status.Model);
        Assert.Equal(TrackSessionState.Starting, track.Status.State);
    }
}
