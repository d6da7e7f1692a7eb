using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// A Realtime track fed through the voice gate against the fake server: the session receives audio with gaps (the
/// held-back silence) and must still caption every turn once, in order, at its place on the pipeline timeline, also
/// when a reconnect replays audio that has gaps.
/// </summary>
public sealed class GatedAudioTrackTests : IAsyncLifetime
{
    private const int ChunkBytes = 960;
    private static readonly string[] Lines = ["First line of the stream.", "Second line right here.", "A third one."];
    private static readonly TimeSpan Tone = TimeSpan.FromMilliseconds(800);
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(5);

    // Server VAD with silence_duration_ms 500: the composition root derives a 1 s hangover from it.
    private readonly VoiceGate _gate = new(new VoiceGateSettings(TimeSpan.FromMilliseconds(1000)));
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

    private RealtimeTranscriptionTrack Track()
    {
        var options = FakeServerTrackOptions.For(_server.Endpoint, o => o.SilenceDurationMs = 500);
        var connector = new OpenAiRealtimeConnector(Options.Create(options));
        return new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, connector, NullLogger.Instance, TimeProvider.System);
    }

    /// <summary>The gate's decision on <paramref name="chunks"/>, as the audio pipeline makes it.</summary>
    private List<AudioChunk> Gated(IEnumerable<AudioChunk> chunks)
    {
        var forwarded = new List<AudioChunk>();
        foreach (var chunk in chunks)
        {
            _gate.Process(chunk, forwarded);
        }

        return forwarded;
    }

    private async Task WriteAsync(IEnumerable<AudioChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            await _chunks.Writer.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void AudioReplayBuffer_ChunksWithGaps_KeepsTheAudioSentInOrderAtItsPositions()
    {
        var chunks = _audio.Silence(TimeSpan.FromSeconds(1)).ToList(); // 50 chunks, 480 samples each
        var buffer = new AudioReplayBuffer(TimeSpan.FromMilliseconds(200));
        // Sent: chunks 0..4, then (after held-back audio) 20..24, then 40..44.
        var sent = chunks.Where(c => c.Sequence % 20 < 5).ToList();
        foreach (var chunk in sent)
        {
            buffer.Add(chunk);
        }

        // The capacity counts audio kept, not timeline: 200 ms = the last 10 chunks sent, across the gap.
        Assert.Equal(sent[^10..], buffer.Since(0));
        // A resume point inside a gap replays from the first chunk after it.
        Assert.Equal(sent[^5..], buffer.Since(30 * 480));
        // A resume point inside a chunk replays that chunk too.
        Assert.Equal(sent[^4..], buffer.Since((41 * 480) + 100));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_GatedAudioWithGaps_CaptionsEveryTurnOnceInOrderAtItsPipelineTime()
    {
        var ungated = _audio.Silence(TimeSpan.FromSeconds(3)).ToList();
        var toneStarts = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            var tone = _audio.Tone(Tone).ToList();
            toneStarts.Add(tone[0].Start);
            ungated.AddRange(tone);
            ungated.AddRange(_audio.Silence(Pause));
        }

        var gated = Gated(ungated);
        Assert.True(gated.Count < ungated.Count * 2 / 3, "the gate must leave gaps");
        var track = Track();
        await WriteAsync(gated);
        _chunks.Writer.Complete();

        await track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);

        Assert.Equal(Lines, _captions.CompletedInTurnOrder());
        var commits = _captions.Commits;
        Assert.Equal(3, commits.Count);
        Assert.Equal(3, _captions.Completed.Select(c => c.ItemId).Distinct().Count());
        Assert.Null(commits[0].Previous);
        Assert.Equal(commits[0].ItemId, commits[1].Previous);
        Assert.Equal(commits[1].ItemId, commits[2].Previous);
        for (var i = 0; i < 3; i++)
        {
            // The fake pads 300 ms before the voice it hears (the gate's pre-roll) and ends the turn where the tone ends.
            Assert.InRange(commits[i].Start, toneStarts[i] - TimeSpan.FromMilliseconds(350), toneStarts[i]);
            Assert.InRange(commits[i].End, toneStarts[i] + Tone - TimeSpan.FromMilliseconds(30), toneStarts[i] + Tone + TimeSpan.FromMilliseconds(100));
        }

        Assert.Empty(_captions.Failed);
        var session = Assert.Single(_server.Sessions);
        // What the session heard: the gated chunks and the silence that ends the last turn, far less than all the audio.
        Assert.True(session.AppendedBytes < ungated.Count * (long)ChunkBytes * 2 / 3, $"{session.AppendedBytes} bytes appended of {ungated.Count * ChunkBytes}");
        Assert.True(session.AppendedBytes >= gated.Count * (long)ChunkBytes);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedMidTurnAfterAGap_ReplaysAndCaptionsTheTurnOnceAtItsPipelineTime()
    {
        var first = Gated(_audio.Silence(TimeSpan.FromSeconds(2)).Concat(_audio.Tone(Tone)).Concat(_audio.Silence(Pause)));
        var secondTone = _audio.Tone(Tone).ToList();
        var secondStart = secondTone[0].Start;
        var secondHead = Gated(secondTone.Take(20)); // the pre-roll and the first 400 ms of the tone
        var secondRest = Gated(secondTone.Skip(20).Concat(_audio.Silence(Pause)));
        Assert.True(secondHead[0].Sequence > first[^1].Sequence + 1, "the gate must leave a gap before the second turn");

        var track = Track();
        var run = track.RunAsync(_chunks.Reader, _captions, TestContext.Current.CancellationToken);
        await WriteAsync(first);
        await _captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);
        await WriteAsync(secondHead);
        var sentBeforeDrop = (first.Count + secondHead.Count) * (long)ChunkBytes;
        await Poll.UntilAsync(() => _server.Sessions[0].AppendedBytes >= sentBeforeDrop, "the fake server heard the audio sent before the drop", TestContext.Current.CancellationToken);
        await _server.Faults.DropConnectionsAsync();
        await WriteAsync(secondRest);
        _chunks.Writer.Complete();
        await run;

        Assert.Equal([Lines[0], Lines[1]], _captions.CompletedInTurnOrder());
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, track.Status.Reconnects);
        var completed = _captions.Completed.Select(c => c.ItemId).ToHashSet();
        var second = _captions.Commits.Last(c => completed.Contains(c.ItemId));
        // The replacement session heard the first turn's hangover, a gap, then the second turn: its times still land on
        // the pipeline timeline.
        Assert.InRange(second.Start, secondStart - TimeSpan.FromMilliseconds(350), secondStart);
        Assert.InRange(second.End, secondStart + Tone - TimeSpan.FromMilliseconds(30), secondStart + Tone + TimeSpan.FromMilliseconds(100));
    }
}
