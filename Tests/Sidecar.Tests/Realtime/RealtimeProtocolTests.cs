using System.Text.Json;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RealtimeProtocolTests
{
    private static JsonElement Parse(BinaryData message) => JsonDocument.Parse(message.ToMemory()).RootElement;

    [Theory]
    [InlineData(TurnDetectionMode.SemanticVad, "semantic_vad")]
    [InlineData(TurnDetectionMode.ServerVad, "server_vad")]
    public void TranscriptionSessionUpdate_VadModes_HaveTheGaShape(TurnDetectionMode mode, string expectedType)
    {
        var events = new RealtimeClientEvents("t");
        var (message, id) = events.TranscriptionSessionUpdate(new RealtimeOptions { TurnDetection = mode, Language = "pt-BR", Prompt = "Valorant" });
        var root = Parse(message);

        Assert.Equal("session.update", root.GetProperty("type").GetString());
        Assert.Equal(id, root.GetProperty("event_id").GetString());
        var session = root.GetProperty("session");
        Assert.Equal("transcription", session.GetProperty("type").GetString());
        var input = session.GetProperty("audio").GetProperty("input");
        Assert.Equal("audio/pcm", input.GetProperty("format").GetProperty("type").GetString());
        Assert.Equal(24000, input.GetProperty("format").GetProperty("rate").GetInt32());
        Assert.Equal("near_field", input.GetProperty("noise_reduction").GetProperty("type").GetString());
        Assert.Equal("gpt-4o-transcribe", input.GetProperty("transcription").GetProperty("model").GetString());
        Assert.Equal("pt", input.GetProperty("transcription").GetProperty("language").GetString());
        Assert.Equal("Valorant", input.GetProperty("transcription").GetProperty("prompt").GetString());
        Assert.Equal(expectedType, input.GetProperty("turn_detection").GetProperty("type").GetString());
    }

    [Fact]
    public void TranscriptionSessionUpdate_ManualAndNoNoiseReduction_NullTurnDetectionAndNoNoiseReduction()
    {
        var (message, _) = new RealtimeClientEvents("t").TranscriptionSessionUpdate(
            new RealtimeOptions { TurnDetection = TurnDetectionMode.Manual, NoiseReduction = "none" });
        var input = Parse(message).GetProperty("session").GetProperty("audio").GetProperty("input");

        Assert.Equal(JsonValueKind.Null, input.GetProperty("turn_detection").ValueKind);
        // The published schema allows an object or nothing (default null: off), not an explicit null.
        Assert.False(input.TryGetProperty("noise_reduction", out _));
        Assert.False(input.GetProperty("transcription").TryGetProperty("prompt", out _));
    }

    [Fact]
    public void Append_Pcm_IsBase64OfTheSameBytesWithAUniqueEventId()
    {
        var events = new RealtimeClientEvents("s1");
        byte[] pcm = [1, 2, 3, 4, 250, 251];

        var (first, firstId) = events.Append(pcm);
        var (_, secondId) = events.Append(pcm);
        var root = Parse(first);

        Assert.Equal("input_audio_buffer.append", root.GetProperty("type").GetString());
        Assert.Equal(pcm, Convert.FromBase64String(root.GetProperty("audio").GetString()!));
        Assert.NotEqual(firstId, secondId);
        Assert.StartsWith("s1_", firstId, StringComparison.Ordinal);
    }

    [Fact]
    public void SentEventLog_OverCapacity_ForgetsTheOldest()
    {
        var log = new SentEventLog(capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            log.Add($"e{i}", $"type{i}");
        }

        Assert.Null(log.TypeOf("e0"));
        Assert.Null(log.TypeOf("e1"));
        Assert.Equal("type4", log.TypeOf("e4"));
        Assert.Null(log.TypeOf(null));
    }

    [Fact]
    public void SessionTimeline_SessionStartingMidStreamWithAGap_MapsEachSegment()
    {
        var timeline = new SessionTimeline();
        timeline.Appended(pipelineSample: 48_000, sampleCount: 24_000); // session 0-1 s = pipeline 2-3 s
        timeline.Appended(pipelineSample: 96_000, sampleCount: 24_000); // a gap: session 1-2 s = pipeline 4-5 s

        Assert.Equal(TimeSpan.FromSeconds(2), timeline.ToPipeline(0));
        Assert.Equal(TimeSpan.FromSeconds(2.5), timeline.ToPipeline(500));
        Assert.Equal(TimeSpan.FromSeconds(4.25), timeline.ToPipeline(1250));
        Assert.Equal(48_000, timeline.SessionSamples);
    }

    [Fact]
    public void AudioReplayBuffer_KeepsOnlyTheNewestAudioAndFiltersByStart()
    {
        var audio = new ToneAudio();
        var buffer = new AudioReplayBuffer(TimeSpan.FromMilliseconds(100));
        foreach (var chunk in audio.Silence(TimeSpan.FromMilliseconds(200)))
        {
            buffer.Add(chunk);
        }

        var kept = buffer.Since(0);
        Assert.Equal(5, kept.Count);
        Assert.Equal(2400, kept[0].StartSample);
        Assert.Equal(3, buffer.Since(3400).Count);
    }
}
