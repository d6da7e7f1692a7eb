using CaptionSidecar.Captions;
using CaptionSidecar.Pipeline;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tests.Captions;
using CaptionSidecar.Translation;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Pipeline;

/// <summary>Final source lines reach every other language's text translation, bounded.</summary>
public sealed class SourceLineHubTests
{
    private readonly SourceLineHub _hub = new();

    [Fact]
    public void Publish_LineOfASpeaker_ReachesEveryOtherLanguageButNotTheirOwn()
    {
        var es = _hub.Subscribe("es");
        var en = _hub.Subscribe("en");

        _hub.Publish(Line("l1", "es"));

        Assert.False(es.TryRead(out _));
        Assert.True(en.TryRead(out var line));
        Assert.Equal("l1", line.ItemId);
    }

    [Fact]
    public void Publish_QueueFull_DropsTheOldestAndCountsIt()
    {
        var fr = _hub.Subscribe("fr");
        for (var i = 0; i < SourceLineHub.Capacity + 3; i++)
        {
            _hub.Publish(Line($"l{i}", "en"));
        }

        Assert.Equal(3, _hub.DroppedFor("fr"));
        Assert.True(fr.TryRead(out var first));
        Assert.Equal("l3", first.ItemId);
    }

    [Fact]
    public async Task Complete_EveryQueueEndsAndALaterSubscriberGetsAnEndedQueue()
    {
        var ct = TestContext.Current.CancellationToken;
        var fr = _hub.Subscribe("fr");
        _hub.Complete();

        await fr.Completion.WaitAsync(ct);
        await _hub.Subscribe("de").Completion.WaitAsync(ct);
    }

    [Fact]
    public void Tee_FinalLines_GoToTheHubWithTheSpeakerAndTheUpdateGoesOn()
    {
        var time = new FakeTimeProvider();
        var next = new RecordingPublisher();
        var guest = new Speaker("Guest", new SpeakerLabel("Guest", "#64d2ff"), "default", "es", null);
        var en = _hub.Subscribe("en");
        var tee = _hub.Tee(next, guest, time);
        var item = new CaptionItem("es", 1, "i1", "Hola a todos.", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), guest.Label);

        tee.Publish(new CaptionUpdate("es", 1, CaptionUpdateKind.Text, [], [item], time.GetUtcNow()));

        Assert.Single(next.Updates);
        Assert.True(en.TryRead(out var line));
        Assert.Equal(new SourceLine("Guest", guest.Label, "es", "i1", "Hola a todos.", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), time.GetTimestamp()), line);
    }

    private static SourceLine Line(string id, string language) => new("main", null, language, id, "text", TimeSpan.Zero, TimeSpan.FromSeconds(1), 0);
}
