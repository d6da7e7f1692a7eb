using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class SessionHandoverTests
{
    private const int Second = AudioChunk.SampleRate;
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);
    private readonly SessionHandover _handover = new();
    private readonly AudioReplayBuffer _replay = new(TimeSpan.FromSeconds(10));

    public SessionHandoverTests()
    {
        // Ten seconds of audio in 20 ms chunks: the next live chunk starts at sample 10 s.
        new ToneAudio().Silence(TimeSpan.FromSeconds(10)).ToList().ForEach(_replay.Add);
    }

    [Fact]
    public void TryHandOver_NotAskedFor_KeepsTheAudio()
    {
        Assert.False(_handover.TryHandOver(Now, turnOpen: false, preRoll: true, 10 * Second, 9 * Second, _replay));
        Assert.False(_handover.HandedOver);
    }

    [Fact]
    public void TryHandOver_TurnOpenBeforeTheDeadline_Waits_AtThePause_HandsOverWithThePreRoll()
    {
        _handover.Request(Now.AddSeconds(30));

        Assert.False(_handover.TryHandOver(Now.AddSeconds(29), turnOpen: true, preRoll: true, 10 * Second, 9 * Second, _replay));
        Assert.True(_handover.TryHandOver(Now.AddSeconds(29), turnOpen: false, preRoll: true, 10 * Second, 9 * Second, _replay));

        // The next session hears again from the end of the last committed turn.
        Assert.Equal(9 * Second, _handover.From);
        Assert.True(_handover.HeardByNext(9 * Second));
        Assert.True(_handover.HeardByNext((9 * Second) - 100), "a start reported with prefix padding is still the next session's");
        Assert.False(_handover.HeardByNext(8 * Second));
    }

    [Fact]
    public void TryHandOver_LongPause_PreRollIsBounded()
    {
        _handover.Request(Now.AddSeconds(30));

        Assert.True(_handover.TryHandOver(Now, turnOpen: false, preRoll: true, 10 * Second, 1 * Second, _replay));

        Assert.Equal(10 * Second - (long)(SessionHandover.MaxPreRoll.TotalSeconds * Second), _handover.From);
    }

    [Fact]
    public void TryHandOver_TurnOpenAtTheDeadline_HandsOverMidTurnWithoutPreRoll_TheOldSessionKeepsItsTurn()
    {
        _handover.Request(Now.AddSeconds(30));

        Assert.True(_handover.TryHandOver(Now.AddSeconds(30), turnOpen: true, preRoll: true, 10 * Second, 2 * Second, _replay));

        Assert.Equal(10 * Second, _handover.From);
        Assert.False(_handover.HeardByNext(9 * Second));
    }
}
