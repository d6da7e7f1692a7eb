using System.Text.Json;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RealtimeUsageTests
{
    private static TokenUsage Response(string json)
    {
        using var document = JsonDocument.Parse(json);
        return RealtimeUsage.FromResponse(document.RootElement);
    }

    private static TokenUsage Transcription(string json)
    {
        using var document = JsonDocument.Parse(json);
        return RealtimeUsage.FromTranscription(document.RootElement);
    }

    [Fact]
    public void FromResponse_CachedDetails_SplitsAudioAndTextIntoCachedAndUncached()
    {
        var usage = Response("""
            { "total_tokens": 253, "input_tokens": 132, "output_tokens": 121,
              "input_token_details": { "text_tokens": 119, "audio_tokens": 13, "image_tokens": 0, "cached_tokens": 64,
                                       "cached_tokens_details": { "text_tokens": 64, "audio_tokens": 0, "image_tokens": 0 } },
              "output_token_details": { "text_tokens": 121, "audio_tokens": 0 } }
            """);

        Assert.Equal(new TokenUsage { AudioInputTokens = 13, TextInputTokens = 55, CachedTextInputTokens = 64, TextOutputTokens = 121 }, usage);
    }

    [Fact]
    public void FromResponse_CachedAudio_CountsItApartFromUncachedAudio()
    {
        var usage = Response("""
            { "input_tokens": 300, "output_tokens": 10,
              "input_token_details": { "text_tokens": 100, "audio_tokens": 200, "cached_tokens": 150,
                                       "cached_tokens_details": { "text_tokens": 50, "audio_tokens": 100 } },
              "output_token_details": { "text_tokens": 10 } }
            """);

        Assert.Equal(new TokenUsage { AudioInputTokens = 100, CachedAudioInputTokens = 100, TextInputTokens = 50, CachedTextInputTokens = 50, TextOutputTokens = 10 }, usage);
        Assert.Equal(310, usage.TotalTokens);
    }

    [Fact]
    public void FromResponse_NoDetails_CountsInputAsTextAndAllOutput()
    {
        Assert.Equal(new TokenUsage { TextInputTokens = 40, TextOutputTokens = 7 }, Response("""{ "input_tokens": 40, "output_tokens": 7 }"""));
    }

    [Fact]
    public void FromResponse_NullUsage_IsNone()
    {
        Assert.Equal(TokenUsage.None, Response("null"));
    }

    [Fact]
    public void FromTranscription_Tokens_SplitsAudioAndTextInput()
    {
        var usage = Transcription("""
            { "type": "tokens", "total_tokens": 22, "input_tokens": 13,
              "input_token_details": { "text_tokens": 2, "audio_tokens": 11 }, "output_tokens": 9 }
            """);

        Assert.Equal(new TokenUsage { AudioInputTokens = 11, TextInputTokens = 2, TextOutputTokens = 9 }, usage);
    }

    [Fact]
    public void FromTranscription_TokensWithoutDetails_CountsInputAsAudio()
    {
        Assert.Equal(new TokenUsage { AudioInputTokens = 13, TextOutputTokens = 9 }, Transcription("""{ "type": "tokens", "input_tokens": 13, "output_tokens": 9 }"""));
    }

    [Fact]
    public void FromTranscription_Duration_ReportsSeconds()
    {
        Assert.Equal(new TokenUsage { AudioSeconds = 2.4 }, Transcription("""{ "type": "duration", "seconds": 2.4 }"""));
    }
}
