using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>The <c>process:NAME</c> input kind.</summary>
public sealed class AudioInputSpecTests
{
    [Theory]
    [InlineData("process:Discord", "Discord")]
    [InlineData("PROCESS: \"Zoom.exe\" ", "Zoom.exe")]
    public void Parse_Process_GivesTheProgramName(string input, string name)
    {
        var spec = AudioInputSpec.Parse(input);

        Assert.Equal(new AudioInputSpec(AudioInputKind.Process, name), spec);
        Assert.Equal($"process:{name}", spec.ToString());
    }

    [Fact]
    public void Parse_ProcessWithoutName_SaysWhatToWrite()
    {
        var ex = Assert.Throws<FormatException>(() => AudioInputSpec.Parse("process:"));

        Assert.Contains("write process:NAME", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKind_ListsProcessAmongTheKinds()
    {
        var ex = Assert.Throws<FormatException>(() => AudioInputSpec.Parse("app:Discord"));

        Assert.Contains("process:NAME", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_ProcessOutsideWindows_SaysThereIsNoneHere()
    {
        var problem = AudioInputSpec.Problem("process:Discord", out var spec);

        if (OperatingSystem.IsWindows())
        {
            Assert.Null(problem);
            Assert.Equal(AudioInputKind.Process, spec!.Kind);
        }
        else
        {
            Assert.NotNull(problem);
            Assert.Contains("'process:Discord' captures one program's sound through Windows' per-process loopback", problem, StringComparison.Ordinal);
            Assert.Contains("there is none on this operating system", problem, StringComparison.Ordinal);
        }
    }
}
