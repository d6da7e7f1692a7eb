using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>The Realtime transcription track against the protocol-exact fake server, in process.</summary>
public sealed class RealtimeTranscriptionTrackTests : IAsyncLifetime
{
    private static readonly string[] Lines = ["First line of the stream.", "Second line right here.", "A third one."];
    private readonly ToneAudio _audio = new();
    private readonly Channel<AudioChunk> _chunks = Channel.CreateUnbounded<AudioChunk>();
    private readonly RecordingCaptionInput _captions = new();
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromLines(Lines), WordDelay = TimeSpan.FromMilliseconds(1) },
            TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private RealtimeTranscriptionTrack Track(string key = "test-key", Action<RealtimeOptions>? configure = null)
    {
        var options = FakeServerTrackOptions.For(_server.Endpoint, o =>
        {
            o.ApiKey = key;
            configure?.Invoke(o);
        });
        var connector = new OpenAiRealtimeConnector(Options.Create(options));
        return new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, connector, NullLogger.Instance, TimeProvider.System);
    }

    private async Task WriteAsync(IEnumerable<AudioChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            await _chunks.Writer.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }
    }

    private IEnumerable<AudioChunk> Turn() => _audio.Tone(TimeSpan.FromMilliseconds(800)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000)));

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TwoSpokenTurns_ReportsTurnsInOrderWithTimesOnThePipelineTimeline()
    {
        var track = Track();
        await WriteAsync(_audio.Silence(TimeSpan.FromMilliseconds(500)).Concat(Turn()).Concat(Turn()));
        _chunks.Writer.Complete();

        await track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);

        Assert.Equal([Lines[0], Lines[1]], _captions.CompletedInTurnOrder());
        var commits = _captions.Commits;
        Assert.Equal(2, commits.Count);
        Assert.Null(commits[0].Previous);
        Assert.Equal(commits[0].ItemId, commits[1].Previous);
        // The first tone starts at 0.5 s (the server pads 300 ms before speech) and the second at 2.3 s.
        Assert.InRange(commits[0].Start.TotalMilliseconds, 150, 550);
        Assert.InRange(commits[0].End.TotalMilliseconds, 1250, 1900);
        Assert.InRange(commits[1].Start.TotalMilliseconds, 1950, 2350);
        Assert.Equal(Lines[0], _captions.DeltasOf(commits[0].ItemId));
        Assert.Equal(TrackSessionState.Stopped, track.Status.State);
        Assert.Equal(2, track.Status.TurnsCompleted);
        var session = Assert.Single(_server.Sessions);
        Assert.Equal("transcription", session.Intent);
        Assert.Contains("session.update", session.ClientEventTypes);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TranscriptionUsage_SummedIntoTheTrackStatusWithTheModel()
    {
        var track = Track();
        await WriteAsync(Turn().Concat(Turn()));
        _chunks.Writer.Complete();

        await track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);

        // The fake bills a token per 100 ms of the turn's committed audio and a token per 4 characters of transcript.
        var committed = Assert.Single(_server.Sessions).CommittedAudio;
        Assert.Equal(2, committed.Count);
        Assert.Equal(committed.Sum(a => Math.Max(1, (long)a.TotalMilliseconds / 100)), track.Status.Usage.AudioInputTokens);
        Assert.Equal(((Lines[0].Length + 3) / 4) + ((Lines[1].Length + 3) / 4), track.Status.Usage.TextOutputTokens);
        Assert.Equal(0, track.Status.Usage.TextInputTokens);
        Assert.Equal("gpt-4o-transcribe", track.Status.Model);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedMidTurn_ReconnectsAndCaptionsTheTurnOnce()
    {
        var track = Track();
        var run = track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);
        await WriteAsync(Turn());
        await _captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        var tone = _audio.Tone(TimeSpan.FromMilliseconds(800)).ToList();
        await WriteAsync(tone.Take(20));
        await Poll.UntilAsync(() => _server.Sessions[0].AppendedBytes >= 960 * 110, "the fake server heard 110 chunks", TestContext.Current.CancellationToken);
        await _server.Faults.DropConnectionsAsync();
        await WriteAsync(tone.Skip(20).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000))));
        _chunks.Writer.Complete();
        await run;

        AssertTwoTurnsCaptionedAcrossTwoSessions(track);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionExpires_ANewSessionTakesOverWithoutLosingALine()
    {
        var track = Track();
        var run = track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);
        await WriteAsync(Turn());
        await _captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        await _server.Faults.ExpireSessionsAsync();
        await WriteAsync(Turn());
        _chunks.Writer.Complete();
        await run;

        AssertTwoTurnsCaptionedAcrossTwoSessions(track);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_MalformedJsonFromTheServer_IsIgnoredAndTheSessionContinues()
    {
        var track = Track();
        var run = track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);
        await WriteAsync(Turn());
        await _captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        await _server.Faults.SendMalformedJsonAsync();
        await WriteAsync(Turn());
        _chunks.Writer.Complete();
        await run;

        Assert.Equal([Lines[0], Lines[1]], _captions.CompletedInTurnOrder());
        Assert.Single(_server.Sessions);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_WrongKey_ThrowsAuthenticationErrorWithoutRetrying()
    {
        var track = Track(key: "not-the-key");
        _chunks.Writer.Complete();

        var ex = await Assert.ThrowsAsync<RealtimeAuthenticationException>(
            () => track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken));

        Assert.Contains("rejected the API key", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-key", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Sessions);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ManualTurnDetection_CommitsFixedStretchesOfAudio()
    {
        var track = Track(configure: o =>
        {
            o.TurnDetection = TurnDetectionMode.Manual;
            o.ManualCommitSeconds = 1;
        });
        await WriteAsync(_audio.Tone(TimeSpan.FromMilliseconds(2500)));
        _chunks.Writer.Complete();

        await track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);

        // 1 s + 1 s + the last 0.5 s committed at the end of input.
        Assert.Equal([Lines[0], Lines[1], Lines[2]], _captions.CompletedInTurnOrder());
        var session = Assert.Single(_server.Sessions);
        Assert.Equal(3, session.ClientEventTypes.Count(t => t == "input_audio_buffer.commit"));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_Cancelled_StopsPromptly()
    {
        var track = Track();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = track.RunAsync(_chunks.Reader, _captions, cts.Token);
        await WriteAsync(_audio.Silence(TimeSpan.FromMilliseconds(200)));
        await Poll.UntilAsync(() => _server.Sessions.Count == 1 && _server.Sessions[0].AppendedBytes > 0, "the fake server heard audio", TestContext.Current.CancellationToken);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    /// <summary>
    /// Both turns have text, the second once only and at its place on the pipeline timeline (its tone starts at
    /// 1.8 s). The fake's script is shared by its sessions, so a turn the lost session had committed but not finished
    /// is heard again by the new one and gets the next script line: which line the second turn gets is not the point.
    /// </summary>
    private void AssertTwoTurnsCaptionedAcrossTwoSessions(RealtimeTranscriptionTrack track)
    {
        var texts = _captions.CompletedInTurnOrder();
        Assert.Equal(2, texts.Count);
        Assert.Equal(Lines[0], texts[0]);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, track.Status.Reconnects);
        var completedItems = _captions.Completed.Select(c => c.ItemId).ToHashSet();
        var second = _captions.Commits.Last(c => completedItems.Contains(c.ItemId));
        Assert.InRange(second.Start.TotalMilliseconds, 1450, 1850);
    }
}
