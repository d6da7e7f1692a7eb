using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using CaptionSidecar.TestPattern;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.TestPattern;

public sealed class TestPatternTrackTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 14, 30, 5, TimeSpan.Zero));
    private readonly RecordingCaptionInput _captions = new();

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ThreeSentences_MakesTheCallsOfARealEngineInOrderWithChainedItemIds()
    {
        var calls = await SpeakAsync("en", sentences: 3, TestContext.Current.CancellationToken);

        var committed = calls.Where(c => c.Name == nameof(ICaptionInput.TurnCommitted)).ToList();
        Assert.Null(committed[0].PreviousItemId);
        Assert.Equal(committed.Select(c => c.ItemId).Distinct().Count(), committed.Count);
        for (var i = 1; i < committed.Count; i++)
        {
            Assert.Equal(committed[i - 1].ItemId, committed[i].PreviousItemId);
        }

        // Each sentence: started, committed, deltas, completed, stopped; times never go back.
        var expected = new[] { "SpeechStarted", "TurnCommitted", "TextDelta", "TextCompleted", "SpeechStopped" };
        var phase = expected.Length - 1;
        string? item = null;
        var last = TimeSpan.Zero;
        foreach (var call in calls.Take(calls.FindLastIndex(c => c.Name == "SpeechStopped") + 1))
        {
            var next = call.Name == expected[phase] && call.Name == "TextDelta" ? phase : (phase + 1) % expected.Length;
            Assert.True(call.Name == expected[next], $"{call.Name} came after {expected[phase]}");
            phase = next;
            if (call.Name == "TurnCommitted")
            {
                item = call.ItemId;
            }
            else if (call.ItemId is not null)
            {
                Assert.Equal(item, call.ItemId);
            }

            if (call.Start is { } at)
            {
                Assert.True(at >= last, $"{call.Name} at {at} is before {last}");
                last = at;
            }
        }

        Assert.True(committed[0].Start >= TestPatternTrack.FirstPause);
    }

    [Theory(Timeout = 30000)]
    [InlineData("en")]
    [InlineData("es")]
    [InlineData("de")]
    [InlineData("ja")]
    [InlineData("ko")]
    public async Task RunAsync_AnyLanguage_DeltasConcatenateToTheLabelledSentencesOfItsScript(string language)
    {
        var calls = await SpeakAsync(language, sentences: 3, TestContext.Current.CancellationToken);

        var completed = calls.Where(c => c.Name == nameof(ICaptionInput.TextCompleted)).ToList();
        Assert.Equal(TestPatternScript.For(language).Sentences.Take(3), completed.Select(c => c.Text));
        foreach (var turn in completed)
        {
            Assert.StartsWith("[TEST]", turn.Text, StringComparison.Ordinal);
            var deltas = calls.Where(c => c.Name == nameof(ICaptionInput.TextDelta) && c.ItemId == turn.ItemId).Select(c => c.Text);
            Assert.Equal(turn.Text, string.Concat(deltas));
        }
    }

    [Fact]
    public void For_EachLanguage_HasItsOwnSentencesOrTheEnglishOnesMarkedWithItsCode()
    {
        var english = TestPatternScript.For("en").Sentences;
        Assert.InRange(english.Count, 8, 12);
        foreach (var language in new[] { "es", "fr", "de", "pt", "it", "ja" })
        {
            var script = TestPatternScript.For(language);
            Assert.Equal(english.Count, script.Sentences.Count);
            Assert.All(script.Sentences, s => Assert.StartsWith("[TEST] ", s, StringComparison.Ordinal));
            Assert.Empty(script.Sentences.Intersect(english));
        }

        Assert.True(TestPatternScript.For("ja").WrittenWithoutSpaces);
        Assert.Equal("[TEST] (ko) This is a sample caption so you can position and style this source.", TestPatternScript.For("ko").Sentences[0]);
        // A sentence long enough to wrap to two lines of the default 42 characters.
        Assert.Contains(english, s => SubtitleFormat.Wrap(s, new CaptionOptions().MaxCharactersPerLine).Count >= 2);
    }

    [Fact]
    public void Pieces_SpacedAndUnspacedText_WordByWordOrShortRunsThatConcatenateExactly()
    {
        Assert.Equal(["[TEST]", " Short", "  line."], TestPatternTrack.Pieces("[TEST] Short  line.", writtenWithoutSpaces: false));
        Assert.Equal(["[TEST]", " これは", "字幕の", "サンプ", "ル。"], TestPatternTrack.Pieces("[TEST] これは字幕のサンプル。", writtenWithoutSpaces: true));
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_SpeakingPace_IsAbout165WordsAMinute()
    {
        var calls = await SpeakAsync("en", sentences: 2, TestContext.Current.CancellationToken);

        foreach (var turn in calls.Where(c => c.Name == nameof(ICaptionInput.TurnCommitted)))
        {
            var words = calls.Count(c => c.Name == nameof(ICaptionInput.TextDelta) && c.ItemId == turn.ItemId);
            var wordsPerMinute = words / (turn.End!.Value - turn.Start!.Value).TotalMinutes;
            Assert.InRange(wordsPerMinute, 160, 180);
        }
    }

    [Fact]
    public void PauseAfter_EveryFifthSentence_OutlastsTheClearingTime()
    {
        var track = Track("en", clearAfterSeconds: 5);

        var pauses = Enumerable.Range(1, 10).Select(n => track.PauseAfter(n)).ToList();

        Assert.Equal(TimeSpan.FromSeconds(7), pauses[4]);
        Assert.Equal(TimeSpan.FromSeconds(7), pauses[9]);
        Assert.All(pauses.Where((_, i) => i % 5 != 4), p => Assert.InRange(p.TotalSeconds, 1.5, 4));
        Assert.Equal(TimeSpan.FromSeconds(12), TestPatternTrack.LongPauseFor(10));
        Assert.Equal(TimeSpan.FromSeconds(7), TestPatternTrack.LongPauseFor(0));
        Assert.Equal(TimeSpan.FromSeconds(7), TestPatternTrack.LongPauseFor(600));
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_Cancelled_ReturnsWithoutThrowingAndSaysNothingMore()
    {
        var ct = TestContext.Current.CancellationToken;
        var track = Track("en");
        Assert.Equal(TrackSessionState.Starting, track.Status.State);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = track.RunAsync(Channel.CreateUnbounded<AudioChunk>().Reader, _captions, stop.Token);

        await AdvanceUntilAsync(() => _captions.Count(nameof(ICaptionInput.TextCompleted)) == 1 && _captions.Count(nameof(ICaptionInput.TextDelta)) > 14);
        Assert.Equal(TrackSessionState.Connected, track.Status.State);
        Assert.Equal(1, track.Status.TurnsCompleted);
        Assert.Equal("en", track.Status.Language);

        await stop.CancelAsync();
        await run.WaitAsync(ct);
        var said = _captions.Calls.Count;
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(said, _captions.Calls.Count);
        Assert.Equal(TrackSessionState.Stopped, track.Status.State);
    }

    [Fact]
    public void Factory_Create_MakesANoAudioTestPatternTrackForTheLanguage()
    {
        var factory = new TestPatternTrackFactory(_time, Options.Create(new CaptionOptions()), NullLoggerFactory.Instance);

        var track = factory.Create(new CaptionLanguage("fr", IsSource: false));

        Assert.Equal("test-pattern", factory.EngineName);
        Assert.False(factory.UsesAudio);
        Assert.Equal("fr", track.Language.Code);
        Assert.IsType<TestPatternTrack>(track);
    }

    [Fact]
    public void AddCaptionEngines_TestPatternFactory_IsResolvedFromTheContainer()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_time)
            .AddSidecarOptions(configuration)
            .AddCaptionEngines()
            .BuildServiceProvider();

        var factory = provider.GetRequiredService<TestPatternTrackFactory>();

        Assert.Equal("ja", factory.Create(new CaptionLanguage("ja", IsSource: true)).Language.Code);
    }

    private TestPatternTrack Track(string language, double clearAfterSeconds = 5) =>
        new(new CaptionLanguage(language, IsSource: true), TestPatternScript.For(language), TestPatternTrack.LongPauseFor(clearAfterSeconds), _time, NullLogger<TestPatternTrack>.Instance);

    /// <summary>Runs a track until it has finished <paramref name="sentences"/> sentences, stops it and returns its calls.</summary>
    private async Task<List<RecordingCaptionInput.Call>> SpeakAsync(string language, int sentences, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = Track(language).RunAsync(Channel.CreateUnbounded<AudioChunk>().Reader, _captions, stop.Token);
        await AdvanceUntilAsync(() => _captions.Count(nameof(ICaptionInput.SpeechStopped)) >= sentences);
        await stop.CancelAsync();
        await run.WaitAsync(cancellationToken);
        return [.. _captions.Calls];
    }

    /// <summary>Moves fake time on in small steps (every pace in the pattern is a multiple) until <paramref name="done"/>.</summary>
    private async Task AdvanceUntilAsync(Func<bool> done)
    {
        for (var step = 0; !done(); step++)
        {
            Assert.True(step < 100_000, "The test pattern stopped making progress.");
            _time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Yield();
        }
    }
}
