using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Hosting;

public sealed class EngineChoiceTests
{
    [Fact]
    public void Resolve_AutoWithKey_ChoosesOpenAi()
    {
        var choice = EngineChoice.Resolve(new SidecarOptions(), new RealtimeOptions { ApiKey = "sk-x" });

        Assert.Equal(EngineChoice.OpenAi, choice.Engine);
        Assert.Null(choice.Reason);
    }

    [Fact]
    public void Resolve_AutoWithoutKey_ChoosesTestPatternAndSaysHowToEnableLiveCaptions()
    {
        var choice = EngineChoice.Resolve(new SidecarOptions(), new RealtimeOptions());

        Assert.Equal(EngineChoice.TestPattern, choice.Engine);
        Assert.Contains("OPENAI_API_KEY", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ExplicitTestPatternWithKey_KeepsTestPattern()
    {
        var choice = EngineChoice.Resolve(new SidecarOptions { Engine = "test-pattern" }, new RealtimeOptions { ApiKey = "sk-x" });

        Assert.Equal(EngineChoice.TestPattern, choice.Engine);
    }
}
