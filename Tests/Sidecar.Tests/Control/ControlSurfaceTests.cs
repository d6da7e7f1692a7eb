using System.Text.Json;
using CaptionSidecar.Control;
using CaptionSidecar.Overlay;

namespace CaptionSidecar.Tests.Control;

public sealed class ControlSurfaceTests
{
    [Theory]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Dbfs_NoFiniteLevel_IsNull(double level)
    {
        Assert.Null(ControlSurface.Dbfs(level));
    }

    [Fact]
    public void Dbfs_Level_RoundedToATenth()
    {
        Assert.Equal(-6.0, ControlSurface.Dbfs(-6.0206));
        Assert.Null(ControlSurface.Dbfs(null));
    }

    [Fact]
    public void ControlStatus_SilentAudio_SerializesLevelsAsNull()
    {
        var status = new ControlStatus("openai", 1, [], "off", ControlSurface.Dbfs(double.NegativeInfinity), 0, 0, [], [], ControlSurface.Dbfs(double.NegativeInfinity), false);

        var json = JsonSerializer.Serialize(status, JsonSerializerOptions.Web);

        Assert.Contains("\"audioLevelDbfs\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"audioRmsDbfs\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"speech\":false", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", json, StringComparison.Ordinal);
    }
}
