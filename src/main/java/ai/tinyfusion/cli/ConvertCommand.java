package ai.tinyfusion.cli;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.model.dit.ModelFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tinyfusion convert IN OUT}: e.g. an official .pt checkpoint to safetensors. */
@Command(
        name = "convert",
        mixinStandardHelpOptions = true,
        description = "Convert a checkpoint (.pt, .safetensors, sharded set) to safetensors, keeping the original key "
                + "names and storing the DiT config in the metadata.")
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "A .safetensors file, or a directory with --shard-size.")
    Path out;

    @Option(names = "--heads", description = "Attention heads when IN has no stored config.")
    Integer heads;

    @Option(
            names = "--shard-size",
            description = "Write a sharded set (model-0000i-of-0000n.safetensors + index) "
                    + "with shards of at most this many MiB.")
    Long shardMiB;

    @Override
    public Integer call() throws Exception {
        ModelFiles.Loaded loaded = ModelFiles.read(in, heads);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelFiles.CONFIG_KEY, loaded.config().toJson());
        meta.put("format", "pt");
        meta.put("converted_from", in.getFileName().toString());
        LinkedHashMap<String, HostTensor> tensors = loaded.tensors();
        if (shardMiB != null) {
            Safetensors.writeSharded(out, "model", tensors, meta, shardMiB << 20);
        } else {
            Safetensors.write(out, tensors, meta);
        }
        System.out.println("wrote " + out + ": " + tensors.size() + " tensors, " + loaded.config());
        return 0;
    }
}
