package ai.tinyfusion.cli;
public class Main { public static void main(String[] a) {} }
